import { afterAll, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatCriRecords } from "../../core/runtime/cri-log.ts";
import { logText, readLog, rotateLog } from "./logs.ts";

const dir = mkdtempSync(join(tmpdir(), "skiff-logs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = Date.parse("2026-01-01T00:00:00Z");

function file(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

test("lines, partial records joined, tail, since, timestamps, limitBytes", async () => {
  const p = file(
    "a.log",
    formatCriRecords(T, "stdout", "one\ntwo\n") +
      formatCriRecords(T + 1000, "stderr", "err\n") +
      "2026-01-01T00:00:02.000000000Z stdout P par\n2026-01-01T00:00:02.500000000Z stdout F tial\n" +
      "garbage line\n" +
      formatCriRecords(T + 3000, "stdout", "last\n"),
  );
  expect(await logText(p)).toBe("one\ntwo\nerr\npartial\nlast\n");
  expect(await logText(p, { tailLines: 2 })).toBe("partial\nlast\n");
  expect(await logText(p, { tailLines: 0 })).toBe("");
  expect(await logText(p, { sinceMs: T + 1500 })).toBe("partial\nlast\n");
  expect(await logText(p, { timestamps: true, tailLines: 1 })).toBe("2026-01-01T00:00:03.000000000Z last\n");
  expect(await logText(p, { limitBytes: 6 })).toBe("one\ntw");
});

test("follow: appended lines stream until the container ends; a rotation is followed", async () => {
  const p = file("f.log", formatCriRecords(T, "stdout", "first\n"));
  let running = true;
  const ac = new AbortController();
  const reader = readLog(p, { follow: true }, async () => running, ac.signal).getReader();
  const dec = new TextDecoder();
  const next = async () => dec.decode((await reader.read()).value);
  expect(await next()).toBe("first\n");
  appendFileSync(p, formatCriRecords(Date.now(), "stdout", "second\n"));
  expect(await next()).toBe("second\n");
  renameSync(p, `${p}.1`);
  writeFileSync(p, formatCriRecords(Date.now(), "stdout", "after rotation\n"));
  expect(await next()).toBe("after rotation\n");
  running = false;
  expect((await reader.read()).done).toBe(true);
});

test("rotateLog keeps at most maxFiles - 1 rotated files", async () => {
  const p = file("r.log", "x".repeat(100));
  expect(await rotateLog(p, 1000, 3)).toBe(false);
  for (let i = 0; i < 4; i++) {
    writeFileSync(p, "x".repeat(2000));
    expect(await rotateLog(p, 1000, 3)).toBe(true);
  }
  expect(existsSync(p)).toBe(false);
  expect(readdirSync(dir).filter((f) => f.startsWith("r.log.")).length).toBe(2);
});
