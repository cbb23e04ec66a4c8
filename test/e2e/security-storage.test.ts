/**
 * Secrets at rest, the audit log and request hygiene against a real `skiff
 * server` with kubectl: no plaintext anywhere in the data dir, Secrets read
 * back, key rotation offline, every mutating request audited, 429 under a
 * burst, 408 for a slow body while a long watch stays open.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import type { AuditEvent } from "../../core/server/audit.ts";
import { describeWith } from "./require.ts";
import { haveKubectl, skiff, startServer, tempDir, type TestServer, type TlsCredentials, until } from "./harness.ts";

setDefaultTimeout(120_000);

const ID = crypto.randomUUID().slice(0, 8);
const PLAIN = {
  created: `UNIQUE-PLAINTEXT-${ID}-created`,
  patched: `UNIQUE-PLAINTEXT-${ID}-patched`,
  applied: `UNIQUE-PLAINTEXT-${ID}-applied`,
  reapplied: `UNIQUE-PLAINTEXT-${ID}-reapplied`,
  watched: `UNIQUE-PLAINTEXT-${ID}-watched`,
};
const b64 = (s: string) => Buffer.from(s).toString("base64");

function manifest(value: string): string {
  return ["apiVersion: v1", "kind: Secret", "metadata:", "  name: applied", "  namespace: default", "type: Opaque", "stringData:", `  password: ${value}`, ""].join("\n");
}

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** Sends headers and one byte of a 100-byte body, then nothing; resolves with what came back and when the socket closed. Over TLS (with the admin certificate) for an https server. */
function slowBody(url: string, tls?: TlsCredentials): Promise<{ response: string; ms: number }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    let response = "";
    const sock =
      u.protocol === "https:"
        ? tlsConnect({ host: u.hostname, port: Number(u.port), servername: "localhost", ca: tls!.ca, ...(tls?.cert ? { cert: tls.cert, key: tls.key } : {}) })
        : connect(Number(u.port), u.hostname);
    sock.on("data", (d: Buffer) => (response += d.toString()));
    sock.on("error", reject);
    sock.on("close", () => resolve({ response, ms: Date.now() - t0 }));
    sock.write(
      `POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: slow-client\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
    );
  });
}

describeWith("security: secrets at rest, audit, request hygiene", haveKubectl(), "kubectl", () => {
  const dir = tempDir("skiff-e2e-security-");
  const dataDir = join(dir, "data");
  let s: TestServer;
  const started: TestServer[] = [];
  const start = async (args: string[]) => {
    s = await startServer("bun", [...common, ...args], { dir });
    started.push(s);
  };
  const common = ["--preset", "server", "--disable", "scheduler"];

  beforeAll(async () => {
    await start(["--request-body-timeout", "1", "--idle-timeout", "1"]);
  });
  afterAll(async () => {
    for (const x of started) await x.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("kubectl writes Secrets; a slow body gets 408 while a long quiet watch stays open", async () => {
    s.k(["create", "secret", "generic", "created", `--from-literal=password=${PLAIN.created}`]);
    s.k(["patch", "secret", "created", "-p", JSON.stringify({ stringData: { password: PLAIN.patched } })]);
    s.k(["apply", "-f", "-"], { input: manifest(PLAIN.applied) });
    s.k(["apply", "-f", "-"], { input: manifest(PLAIN.reapplied) });
    expect(s.k(["get", "secret", "applied", "-o", "jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}"])).toContain(PLAIN.reapplied);
    s.k(["create", "secret", "generic", "doomed", "--from-literal=k=v"]);
    s.k(["delete", "secret", "doomed"]);

    // A watch, quiet for longer than both the body timeout and the idle timeout.
    const rv = ((await (await s.fetch(`/api/v1/namespaces/default/secrets`)).json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const watch = await s.fetch(`/api/v1/namespaces/default/secrets?watch=true&resourceVersion=${rv}&allowWatchBookmarks=false`);
    const reader = watch.body!.getReader();

    const slow = await slowBody(s.url, s.adminTls);
    expect(slow.response).toStartWith("HTTP/1.1 408");
    expect(slow.response).toContain('"kind":"Status"');
    expect(slow.ms).toBeLessThan(5000);

    await new Promise((r) => setTimeout(r, 6000)); // Bun checks idle connections every few seconds
    s.k(["create", "secret", "generic", "watched", `--from-literal=password=${PLAIN.watched}`]);
    let text = "";
    const dec = new TextDecoder();
    await until("the watch event", async () => {
      const { value, done } = await reader.read();
      if (done) throw new Error("the watch was closed");
      text += dec.decode(value);
      return text.includes('"name":"watched"') || undefined;
    });
    const ev = JSON.parse(text.split("\n").find((l) => l.includes('"name":"watched"'))!) as { type: string; object: { data: { password: string } } };
    expect(ev.type).toBe("ADDED");
    // Watchers get plaintext.
    expect(ev.object.data.password).toBe(b64(PLAIN.watched));
    await reader.cancel();
  });

  test("nothing in the data dir (database, WAL, history, audit log) holds a secret value; kubectl reads them back", async () => {
    expect(Buffer.from(s.k(["get", "secret", "created", "-o", "jsonpath={.data.password}"]), "base64").toString()).toBe(PLAIN.patched);
    expect(Buffer.from(s.k(["get", "secret", "applied", "-o", "jsonpath={.data.password}"]), "base64").toString()).toBe(PLAIN.reapplied);
    const live = files(dataDir);
    // While the server runs (the WAL is live) and after it stops (checkpointed into the db).
    for (const phase of ["running", "stopped"]) {
      if (phase === "stopped") await s.stop();
      const all = files(dataDir);
      expect(all.some((f) => f.endsWith("skiff.db"))).toBe(true);
      expect(all.some((f) => f.endsWith("audit.log"))).toBe(true);
      for (const f of all) {
        const bytes = readFileSync(f).toString("latin1");
        for (const v of Object.values(PLAIN)) {
          expect({ file: f, found: bytes.includes(v) }).toEqual({ file: f, found: false });
          expect({ file: f, found: bytes.includes(b64(v)) }).toEqual({ file: f, found: false });
        }
      }
    }
    expect(live.some((f) => f.endsWith("skiff.db-wal"))).toBe(true);
  });

  test("the audit log has every mutating request the test made, with kubectl's user agent and the codes", () => {
    const events = readFileSync(join(dataDir, "audit", "audit.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditEvent);
    const byKubectl = events.filter((e) => e.userAgent?.startsWith("kubectl/") && e.objectRef?.resource === "secrets");
    const seen = byKubectl.map((e) => `${e.verb} ${e.objectRef?.name ?? ""} ${e.responseStatus.code}`);
    // apply: create first, then a patch; kubectl create names the object in the body, not the path.
    expect(seen).toEqual([
      "create  201",
      "patch created 200",
      "create  201",
      "patch applied 200",
      "create  201",
      "delete doomed 200",
      "create  201",
    ]);
    for (const e of byKubectl) {
      expect(e).toMatchObject({ kind: "Event", apiVersion: "audit.k8s.io/v1", level: "Metadata", sourceIPs: ["127.0.0.1"] });
      expect(e.user.username).toBeString();
      expect(e.auditID).toMatch(/^[0-9a-f-]{36}$/);
    }
    const slow = events.find((e) => e.userAgent === "slow-client");
    expect(slow).toMatchObject({ verb: "create", responseStatus: { code: 408 } });
    // The kernel's own controllers are audited too.
    expect(events.some((e) => e.annotations?.["skiff.io/in-process"] === "true")).toBe(true);
  });

  test("keys rotate offline: rewrite moves every Secret to the new key, then the old key can be pruned", () => {
    const keysFile = join(dataDir, "encryption", "keys.json");
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    const rot = skiff(["secrets", "rotate-key", "--data-dir", dataDir]);
    expect(rot).toMatchObject({ code: 0, out: "new primary key key2\n" });
    const early = skiff(["secrets", "prune-keys", "--data-dir", dataDir]);
    expect(early.code).not.toBe(0);
    expect(early.err).toContain("key1 seals");
    const rw = skiff(["secrets", "rewrite", "--data-dir", dataDir]);
    expect(rw.code).toBe(0);
    expect(rw.out).toMatch(/^rewrote \d+ of \d+ objects with key key2\n$/);
    const pr = skiff(["secrets", "prune-keys", "--data-dir", dataDir]);
    expect(pr).toMatchObject({ code: 0, out: "dropped key1; key2 remains\n" });
    const keys = JSON.parse(readFileSync(keysFile, "utf8")) as { primary: string; keys: { name: string }[] };
    expect(keys.primary).toBe("key2");
    expect(keys.keys.map((k) => k.name)).toEqual(["key2"]);
  });

  test("after a restart on the pruned keys Secrets still read; a burst from one client gets 429 with Retry-After", async () => {
    await start(["--client-qps", "1", "--client-burst", "5", "--client-busy-inflight", "0"]);
    // The offline commands refuse while the server holds the data dir.
    const refused = skiff(["secrets", "rewrite", "--data-dir", dataDir]);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain("stop it first");
    expect(Buffer.from(s.k(["get", "secret", "created", "-o", "jsonpath={.data.password}"]), "base64").toString()).toBe(PLAIN.patched);
    const codes: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i++) {
      const r = await s.fetch(`/api/v1/namespaces/default/secrets/created`);
      codes.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get("retry-after");
        expect(((await r.json()) as { reason: string }).reason).toBe("TooManyRequests");
      } else await r.arrayBuffer();
    }
    expect(codes).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});
