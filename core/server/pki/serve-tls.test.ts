/** serve.ts with `tls`: the presented client certificate reaches the handler, rotation swaps certificates, on every runtime. */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { requestConnection } from "../auth/connection.ts";
import { serve } from "../serve.ts";
import { ClusterPki, DAY_MS } from "./cluster-pki.ts";
import { issue, pemBody } from "./x509.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");

const serial = (port: number, ca: string) =>
  new Promise<string>((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      resolve(s.getPeerCertificate().serialNumber);
      s.end();
    });
    s.on("error", reject);
  });

describe("serve() with TLS on Bun (node:tls front, Bun.serve behind)", () => {
  test("the client certificate chain reaches the handler; rotation changes the served certificate; stop closes", async () => {
    const pki = await ClusterPki.open({ dnsNames: [], ipAddresses: [] });
    const seen: (Uint8Array | undefined)[] = [];
    const l = await serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca },
      fetch: (req, env) => {
        seen.push(requestConnection(req, env).peerCertificates?.[0]);
        return new Response("ok");
      },
    });
    try {
      const client = await issue(pki.signer, { commonName: "u", usages: ["client"], validityMs: DAY_MS });
      const url = `https://127.0.0.1:${l.port}/x`;
      expect(await (await fetch(url, { tls: { ca: pki.ca, cert: client.cert, key: client.key } } as RequestInit)).text()).toBe("ok");
      expect(await (await fetch(url, { tls: { ca: pki.ca } } as RequestInit)).text()).toBe("ok");
      expect(Buffer.from(seen[0]!).equals(Buffer.from(pemBody(client.cert)))).toBe(true);
      expect(seen[1]).toBeUndefined();

      const before = await serial(l.port, pki.ca);
      await pki.renew({ force: { serving: true } });
      l.setTls!({ cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca });
      expect(await serial(l.port, pki.ca)).not.toBe(before);
    } finally {
      await l.stop();
    }
    // Nothing listens any more.
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(l.port, "127.0.0.1");
      s.on("connect", () => (s.destroy(), resolve(false)));
      s.on("error", () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});

describe("serve() with TLS on Node and Deno (@hono/node-server on node:https)", () => {
  const script = `
import { connect } from "node:tls";
import { serve } from "${join(ROOT, "core/server/serve.ts")}";
import { requestConnection } from "${join(ROOT, "core/server/auth/connection.ts")}";
import { ClusterPki } from "${join(ROOT, "core/server/pki/cluster-pki.ts")}";
import { issue, pemBody } from "${join(ROOT, "core/server/pki/x509.ts")}";
import { request } from "node:https";
const pki = await ClusterPki.open({ dnsNames: [], ipAddresses: [] });
let leaf = false;
let client;
const l = await serve({ hostname: "127.0.0.1", port: 0, tls: { cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca },
  fetch: (req, env) => { leaf = Buffer.from(requestConnection(req, env).peerCertificates?.[0] ?? []).equals(Buffer.from(pemBody(client.cert))); return new Response("ok"); } });
client = await issue(pki.signer, { commonName: "u", usages: ["client"], validityMs: 86400000 });
const body = await new Promise((res, rej) => { const r = request({ host: "127.0.0.1", port: l.port, path: "/", ca: pki.ca, cert: client.cert, key: client.key, servername: "localhost" }, (x) => { let b = ""; x.on("data", (d) => (b += d)); x.on("end", () => res(b)); }); r.on("error", rej); r.end(); });
const serial = () => new Promise((res, rej) => { const s = connect({ host: "127.0.0.1", port: l.port, ca: pki.ca, servername: "localhost" }, () => { res(s.getPeerCertificate().serialNumber); s.end(); }); s.on("error", rej); });
const a = await serial();
await pki.renew({ force: { serving: true } });
l.setTls({ cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca });
const b = await serial();
console.log(JSON.stringify({ body, leaf, rotated: a !== b }));
await l.stop();
process.exit(0);
`;
  for (const [runtime, cmd] of [
    ["node", [process.env.SKIFF_NODE ?? "node", "--import", "tsx", "--input-type=module", "-e", script]],
    ["deno", [join(ROOT, "node_modules", ".bin", "deno"), "eval", script]],
  ] as const) {
    test(runtime, () => {
      // Evaluated in the project directory: Deno resolves npm packages from its package.json.
      const r = spawnSync(cmd[0], cmd.slice(1), { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
      const last = (r.stdout ?? "").trim().split("\n").pop() ?? "";
      expect({ out: last, err: r.status === 0 ? "" : r.stderr }).toEqual({ out: JSON.stringify({ body: "ok", leaf: true, rotated: true }), err: "" });
    }, 70_000);
  }
});
