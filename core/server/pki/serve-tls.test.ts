/** serve.ts with `tls`: the presented client certificate reaches the handler (each peer's own), rotation swaps certificates, on every runtime; on Bun also upgrades, streams and large bodies through the TLS front. */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { requestConnection } from "../auth/connection.ts";
import { serve } from "../serve.ts";
import { type BunTlsRuntime, serveBunTls } from "../serve-bun-tls.ts";
import { acceptWebSocket } from "../websocket.ts";
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

describe("serve() with TLS on Bun (Bun.listen TLS front, Bun.serve per peer behind)", () => {
  test("a quiet long request outlives the idle timeout once it asks to (server.timeout(req, 0)); the inner servers answer only the listener's own connections", async () => {
    const pki = await ClusterPki.open({ dnsNames: [], ipAddresses: [] });
    const innerPorts: number[] = [];
    const bun = globalThis.Bun as unknown as BunTlsRuntime;
    const recording: BunTlsRuntime = {
      serve: (o) => {
        const srv = bun.serve(o);
        innerPorts.push(srv.port);
        return srv;
      },
      connect: (o) => bun.connect(o),
      listen: (o) => bun.listen(o),
    };
    const l = await serveBunTls(
      recording,
      {
        hostname: "127.0.0.1",
        port: 0,
        tls: { cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca },
        fetch: (req, env) => {
          (env as { timeout(r: Request, s: number): void }).timeout(req, 0);
          let c: ReadableStreamDefaultController<Uint8Array>;
          const body = new ReadableStream<Uint8Array>({
            start(x) {
              c = x;
              x.enqueue(new TextEncoder().encode("\n"));
            },
          });
          setTimeout(() => {
            c.enqueue(new TextEncoder().encode("late\n"));
            c.close();
          }, 4000);
          return new Response(body);
        },
      },
      1,
    );
    try {
      const res = await fetch(`https://127.0.0.1:${l.port}/watch`, { tls: { ca: pki.ca } } as RequestInit);
      expect(await res.text()).toBe("\nlate\n");
      expect(innerPorts.length).toBeGreaterThan(0);
      const direct = await fetch(`http://127.0.0.1:${innerPorts[0]}/watch`);
      expect(direct.status).toBe(421);
      expect(((await direct.json()) as { reason: string }).reason).toBe("BadRequest");
    } finally {
      await l.stop();
    }
  }, 20_000);

  test("the client certificate chain reaches the handler; rotation changes the served certificate and keeps open connections; stop closes", async () => {
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
    let open: TLSSocket | undefined;
    try {
      const client = await issue(pki.signer, { commonName: "u", usages: ["client"], validityMs: DAY_MS });
      const url = `https://127.0.0.1:${l.port}/x`;
      expect(await (await fetch(url, { tls: { ca: pki.ca, cert: client.cert, key: client.key } } as RequestInit)).text()).toBe("ok");
      expect(await (await fetch(url, { tls: { ca: pki.ca } } as RequestInit)).text()).toBe("ok");
      expect(Buffer.from(seen[0]!).equals(Buffer.from(pemBody(client.cert)))).toBe(true);
      expect(seen[1]).toBeUndefined();

      // The port is this server's alone (the rotation's SO_REUSEPORT does not let a second server share it).
      const tls = { cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca };
      await expect(serve({ hostname: "127.0.0.1", port: l.port, tls, fetch: () => new Response("other") })).rejects.toThrow();

      open = await rawClient(l.port, pki.ca, client);
      expect(await exchange(open, "GET /before HTTP/1.1\r\nHost: x\r\n\r\n", "ok")).toContain("200 OK");
      const before = await serial(l.port, pki.ca);
      await pki.renew({ force: { serving: true } });
      l.setTls!({ cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca });
      expect(await serial(l.port, pki.ca)).not.toBe(before);
      // The connection opened before the rotation still serves, as the same peer.
      seen.length = 0;
      expect(await exchange(open, "GET /after HTTP/1.1\r\nHost: x\r\n\r\n", "ok")).toContain("200 OK");
      expect(Buffer.from(seen[0]!).equals(Buffer.from(pemBody(client.cert)))).toBe(true);
    } finally {
      open?.destroy();
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

  test("concurrent peers each get their own identity; no TLS 1.1; upgrades, streamed answers and large bodies pass", async () => {
    const pki = await ClusterPki.open({ dnsNames: [], ipAddresses: [] });
    const [alice, bob] = await Promise.all(["alice", "bob"].map((cn) => issue(pki.signer, { commonName: cn, usages: ["client"], validityMs: DAY_MS })));
    const cnOf = new Map([
      [Buffer.from(pemBody(alice!.cert)).toString("base64"), "alice"],
      [Buffer.from(pemBody(bob!.cert)).toString("base64"), "bob"],
    ]);
    const l = await serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca },
      fetch: async (req, env) => {
        const conn = requestConnection(req, env);
        const leaf = conn.peerCertificates?.[0];
        const who = leaf ? (cnOf.get(Buffer.from(leaf).toString("base64")) ?? "unknown") : "anonymous";
        const path = new URL(req.url).pathname;
        if (path === "/ws") {
          return acceptWebSocket(req, env, "v5.channel.k8s.io", {
            open: (ws) => ws.send(new TextEncoder().encode(`hello ${who}`)),
            message: () => {},
            close: () => {},
          });
        }
        if (path === "/stream") {
          let n = 0;
          const body = new ReadableStream<Uint8Array>({
            async pull(c) {
              await new Promise((r) => setTimeout(r, 20));
              if (n++ === 3) return c.close();
              c.enqueue(new TextEncoder().encode(`event ${n}\n`));
            },
          });
          return new Response(body);
        }
        if (path === "/size") return new Response(String((await req.arrayBuffer()).byteLength));
        return new Response(`${who} ${conn.remoteAddress ?? "?"}`);
      },
    });
    try {
      const base = `https://127.0.0.1:${l.port}`;
      const as = (c?: { cert: string; key?: string }) => ({ tls: { ca: pki.ca, ...(c ? { cert: c.cert, key: c.key } : {}) } }) as RequestInit;
      // Interleaved, many at once: every answer names the certificate its own connection presented.
      const who = await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const c = [alice, bob, undefined][i % 3];
          return [i % 3, await (await fetch(`${base}/who`, as(c))).text()] as const;
        }),
      );
      for (const [k, text] of who) expect(text).toBe(`${["alice", "bob", "anonymous"][k]} 127.0.0.1`);

      const tls11 = await new Promise<boolean>((resolve) => {
        const s = tlsConnect({ host: "127.0.0.1", port: l.port, minVersion: "TLSv1", maxVersion: "TLSv1.1", rejectUnauthorized: false }, () => {
          s.destroy();
          resolve(true);
        });
        s.on("error", () => resolve(false));
      });
      expect(tls11).toBe(false);

      const ws = new WebSocket(`wss://127.0.0.1:${l.port}/ws`, { protocols: ["v5.channel.k8s.io"], tls: { ca: pki.ca, cert: bob!.cert, key: bob!.key } } as unknown as string[]);
      ws.binaryType = "arraybuffer";
      const greeting = await new Promise<string>((resolve, reject) => {
        ws.onmessage = (e) => resolve(typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data as ArrayBuffer));
        ws.onerror = () => reject(new Error("websocket failed"));
      });
      ws.close();
      expect(greeting).toBe("hello bob");

      const stream = await fetch(`${base}/stream`, as(alice));
      const reader = stream.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toBe("event 1\n"); // before the rest exists
      let rest = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
      expect(rest).toBe("event 2\nevent 3\n");

      const big = new Uint8Array(3 * 1024 * 1024).fill(7);
      expect(await (await fetch(`${base}/size`, { ...as(alice), method: "POST", body: big })).text()).toBe(String(big.byteLength));
    } finally {
      await l.stop();
    }
  });
});

/** A TLS connection presenting `client`, kept open for `exchange`. */
function rawClient(port: number, ca: string, client: { cert: string; key?: string }): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost", cert: client.cert, key: client.key }, () => resolve(s));
    s.on("error", reject);
  });
}

/** Writes `request` on `s` and resolves with what comes back up to and including `until`. */
function exchange(s: TLSSocket, request: string, until: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (d: Buffer) => {
      text += d.toString("latin1");
      if (text.includes(`\r\n\r\n`) && text.endsWith(until)) {
        s.off("data", onData);
        resolve(text);
      }
    };
    s.on("data", onData);
    s.once("error", reject);
    s.write(request);
  });
}

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
