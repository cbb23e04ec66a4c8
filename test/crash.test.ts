/**
 * Crash test: a child process writes under load and is killed with SIGKILL at
 * a random moment, several times over the same database. After each kill,
 * every acknowledged write is present, revisions never go backwards, and
 * `PRAGMA integrity_check` is ok.
 */
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { openSql } from "../core/store/sql/driver.ts";
import { SqliteStore } from "../core/store/sqlite-store.ts";
import { DRIVERS, storeFactory } from "./fixtures/stores.ts";
import { ConfigMaps } from "./fixtures/types.ts";

const CHILD = join(import.meta.dir, "fixtures", "crash-writer.ts");

interface Ack {
  rev: number;
  name: string;
  counter: number;
}

/** Runs the child until it has acknowledged `minAcks` writes, then SIGKILLs it after a random delay. */
function runAndKill(path: string, driver: string, durability: string, minAcks: number): Promise<{ start: number; acks: Ack[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, path, driver, durability], { stdio: ["ignore", "pipe", "pipe"] });
    const acks: Ack[] = [];
    let start = -1;
    let buf = "";
    let stderr = "";
    let killing = false;
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const [kind, a, b, c] = line.split(" ");
        if (kind === "start") start = Number(a);
        else if (kind === "ack") acks.push({ rev: Number(a), name: b!, counter: Number(c) });
      }
      if (!killing && acks.length >= minAcks) {
        killing = true;
        setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 30));
      }
    });
    child.on("exit", (_code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`child exited without being killed: ${stderr}`));
      else resolve({ start, acks }); // a partial last line was never acknowledged
    });
  });
}

describe("crash safety", () => {
  for (const driver of DRIVERS) {
    test(`SIGKILL under load loses no acknowledged write (${driver})`, async () => {
      const f = storeFactory(driver);
      const path = join(f.dir, "crash.sqlite");
      let lastMax = 0;
      for (let round = 0; round < 5; round++) {
        const durability = round % 2 ? "normal" : "full";
        const { start, acks } = await runAndKill(path, driver, durability, 200 + Math.floor(Math.random() * 2000));
        expect(acks.length).toBeGreaterThan(0);
        // Revisions never go backwards across restarts.
        expect(start).toBeGreaterThanOrEqual(lastMax);
        expect(Math.min(...acks.map((a) => a.rev))).toBeGreaterThan(start);

        const check = await openSql({ path, driver });
        const rows = check.prepare<{ integrity_check: string }>("PRAGMA integrity_check").all();
        expect(rows.map((r) => r.integrity_check)).toEqual(["ok"]);
        check.close();

        const store = await SqliteStore.open({ path, driver });
        const maxAck = Math.max(...acks.map((a) => a.rev));
        expect(await store.currentRevision()).toBeGreaterThanOrEqual(maxAck);
        const latest = new Map<string, Ack>();
        for (const a of acks) if ((latest.get(a.name)?.rev ?? 0) < a.rev) latest.set(a.name, a);
        for (const [name, a] of latest) {
          const got = await store.get(ConfigMaps, "crash", name);
          expect(got.revision).toBeGreaterThanOrEqual(a.rev);
          expect(Number((got.object.data as { counter: string }).counter)).toBeGreaterThanOrEqual(a.counter);
        }
        lastMax = await store.currentRevision();
        await store.close();
      }
      f.cleanup();
    }, 60_000);
  }
});
