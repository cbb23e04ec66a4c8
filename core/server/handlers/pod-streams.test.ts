/**
 * pods/exec, pods/attach and pods/portforward through a real listening API
 * server (Bun) to a fake node agent that speaks the agent endpoint's
 * protocols and wants a bearer token. kubectl itself is exercised in
 * test/e2e/node-agent.test.ts; here: the relays, the SPDY tunnel to agent
 * connections, the Status errors, discovery.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import zlib from "node:zlib";
import type { KubeObject } from "../../api/meta.ts";
import { createKernel, type Kernel } from "../../kernel.ts";
import { createApiServer } from "../app.ts";
import { execContainer } from "./pod-streams.ts";
import { type Listening, serve } from "../serve.ts";
import { defaultServices } from "../services.ts";
import {
  decodeHeaderBlock,
  encodeData,
  encodeHeaderBlock,
  encodeSynStream,
  FLAG_FIN,
  FrameReader,
  FrameType,
  HEADER_DICTIONARY,
  HeaderInflater,
  type RawFrame,
  readSynReply,
} from "../spdy.ts";

const TOKEN = "s3cret";
const NODES = { group: "", version: "v1", resource: "nodes", namespaced: false };
const PODS = { group: "", version: "v1", resource: "pods" };
const enc = new TextEncoder();
const dec = new TextDecoder();

interface AgentSession {
  kind: "exec" | "pf";
  url: URL;
  protocol: string;
  auth: string | null;
  port?: number;
}

/** The fake agent: exec echoes stdin to stdout and reports the command; port-forward echoes upper-cased, or fails on port 9. */
function fakeAgent() {
  const seen: AgentSession[] = [];
  const server = Bun.serve<AgentSession>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      const url = new URL(req.url);
      const auth = req.headers.get("authorization");
      if (auth !== `Bearer ${TOKEN}`) return new Response("Unauthorized", { status: 401 });
      const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
      if (url.pathname.startsWith("/containerLogs/")) return new Response(`log of ${url.pathname}\n`);
      const kind = url.pathname.startsWith("/exec/") ? "exec" : url.pathname.startsWith("/portForward/") ? "pf" : undefined;
      if (!kind) return new Response("not found", { status: 404 });
      const protocol = offered[0]!;
      const data: AgentSession = { kind, url, protocol, auth, ...(kind === "pf" ? { port: Number(url.searchParams.get("ports")) } : {}) };
      seen.push(data);
      return srv.upgrade(req, { data, headers: { "Sec-WebSocket-Protocol": protocol } }) ? undefined : new Response("no upgrade", { status: 400 });
    },
    websocket: {
      open(ws) {
        const d = ws.data;
        if (d.kind === "exec") {
          const cmd = d.url.searchParams.getAll("command").join(" ");
          ws.send(Uint8Array.of(1, ...enc.encode(`ran ${cmd} in ${d.url.pathname.split("/")[4]}\n`)));
          ws.send(Uint8Array.of(2, ...enc.encode("to stderr\n")));
        } else {
          const p = [d.port! & 255, d.port! >> 8];
          ws.send(Uint8Array.of(0, ...p));
          ws.send(Uint8Array.of(1, ...p));
          if (d.port === 9) ws.send(Uint8Array.of(1, ...enc.encode("error forwarding port 9 to pod web: connection refused")));
        }
      },
      message(ws, m) {
        const b = typeof m === "string" ? enc.encode(m) : new Uint8Array(m);
        if (ws.data.kind === "exec") {
          if (b[0] === 0) ws.send(Uint8Array.of(1, ...b.subarray(1)));
          if (b[0] === 255 && b[1] === 0) {
            ws.send(Uint8Array.of(3, ...enc.encode(JSON.stringify({ metadata: {}, status: "Success" }))));
            ws.close(1000);
          }
        } else if (b[0] === 0) {
          ws.send(Uint8Array.of(0, ...enc.encode(dec.decode(b.subarray(1)).toUpperCase())));
          if (dec.decode(b.subarray(1)).includes("bye")) ws.close(1000);
        }
      },
    },
  });
  return { server, seen };
}

let kernel: Kernel;
let agent: ReturnType<typeof fakeAgent>;
let api: Listening;
let base: string;

beforeAll(async () => {
  agent = fakeAgent();
  kernel = await createKernel({ memory: true, listen: { host: "127.0.0.1", port: 0 } });
  const c = kernel.client;
  const node = await c.create<KubeObject>(NODES, { metadata: { name: "n1" } });
  await c.updateStatus(NODES, {
    ...node,
    status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: agent.server.port } } },
  });
  const running = (name: string, containers: string[], annotations: Record<string, string> = {}, phase = "Running") =>
    c
      .create<KubeObject>(PODS, { metadata: { name, namespace: "default", annotations }, spec: { nodeName: "n1", containers: containers.map((n) => ({ name: n, image: "i" })) } })
      .then((p) =>
        c.updateStatus(PODS, {
          ...p,
          status: { phase, containerStatuses: containers.map((n) => ({ name: n, ready: true, restartCount: 0, image: "i", imageID: "", state: phase === "Running" ? { running: {} } : { terminated: { exitCode: 0 } } })) },
        }),
      );
  await running("web", ["main", "side"], { "kubectl.kubernetes.io/default-container": "side" });
  await running("done", ["c"], {}, "Succeeded");
  await c.create(PODS, { metadata: { name: "unbound", namespace: "default" }, spec: { containers: [{ name: "c", image: "i" }] } });
  // An API server that knows the agents' token, on the kernel's storage.
  const s = kernel.storage;
  const deps = { registry: kernel.registry, store: kernel.store, storage: s, patch: defaultServices().patch };
  api = await serve({ hostname: "127.0.0.1", port: 0, fetch: createApiServer(deps, { agents: { token: TOKEN } }).app.fetch });
  base = `127.0.0.1:${api.port}`;
});

afterAll(async () => {
  await api?.stop();
  await kernel?.stop();
  agent?.server.stop(true);
});

/** Opens a WebSocket to the API server; resolves with the socket, its messages and its close. */
function open(path: string, protocols: string[], host = base) {
  const ws = new WebSocket(`ws://${host}${path}`, protocols);
  ws.binaryType = "arraybuffer";
  const messages: Uint8Array[] = [];
  ws.onmessage = (e) => messages.push(new Uint8Array(e.data as ArrayBuffer));
  const closed = new Promise<{ code: number; reason: string }>((r) => (ws.onclose = (e) => r({ code: e.code, reason: e.reason })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("WebSocket failed"));
  });
  return { ws, messages, closed, opened };
}

async function status(path: string, init: RequestInit = {}, host = base): Promise<{ code: number; body: any }> {
  const r = await fetch(`http://${host}${path}`, init);
  return { code: r.status, body: await r.json() };
}

const wsHeaders = (protocol: string) => ({ connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-protocol": protocol });

describe("exec", () => {
  test("relays frames both ways with the negotiated subprotocol, the token and the agent's close code", async () => {
    const s = open("/api/v1/namespaces/default/pods/web/exec?command=cat&command=-n&container=main&stdin=true&stdout=true&stderr=true", ["v5.channel.k8s.io", "v4.channel.k8s.io"]);
    await s.opened;
    expect(s.ws.protocol).toBe("v5.channel.k8s.io");
    s.ws.send(Uint8Array.of(0, ...enc.encode("piped")));
    s.ws.send(Uint8Array.of(255, 0));
    expect(await s.closed).toEqual({ code: 1000, reason: "" });
    const frames = s.messages.map((m) => [m[0], dec.decode(m.subarray(1))]);
    expect(frames).toEqual([
      [1, "ran cat -n in main\n"],
      [2, "to stderr\n"],
      [1, "piped"],
      [3, '{"metadata":{},"status":"Success"}'],
    ]);
    const seen = agent.seen.at(-1)!;
    expect(seen.auth).toBe(`Bearer ${TOKEN}`);
    expect(seen.protocol).toBe("v5.channel.k8s.io");
    expect(seen.url.pathname).toBe("/exec/default/web/main");
    expect(seen.url.searchParams.getAll("command")).toEqual(["cat", "-n"]);
    expect(["stdin", "stdout", "stderr", "tty"].map((k) => seen.url.searchParams.get(k))).toEqual(["1", "1", "1", null]);
  });

  test("v4 is taken when it is all the client offers; without a container the default-container annotation picks one", async () => {
    const s = open("/api/v1/namespaces/default/pods/web/exec?command=true&stdout=1", ["v4.channel.k8s.io"]);
    await s.opened;
    expect(s.ws.protocol).toBe("v4.channel.k8s.io");
    await until(() => s.messages.length >= 1);
    expect(agent.seen.at(-1)!.url.pathname).toBe("/exec/default/web/side");
    expect(agent.seen.at(-1)!.protocol).toBe("v4.channel.k8s.io");
    s.ws.close(1000);
  });

  test("bad requests are Status errors before any upgrade", async () => {
    const h = wsHeaders("v5.channel.k8s.io");
    const cases: [string, RequestInit, number, string][] = [
      ["/api/v1/namespaces/default/pods/nope/exec?command=sh", { headers: h }, 404, 'pods "nope" not found'],
      ["/api/v1/namespaces/default/pods/web/exec?container=main", { headers: h }, 400, "you must specify at least 1 command"],
      ["/api/v1/namespaces/default/pods/web/exec?command=sh&container=zzz", { headers: h }, 400, "container zzz is not valid for pod web"],
      ["/api/v1/namespaces/default/pods/web/exec?command=sh&stdout=false&stderr=false", { headers: h }, 400, "you must specify at least 1 of stdin, stdout, stderr"],
      ["/api/v1/namespaces/default/pods/unbound/exec?command=sh", { headers: h }, 400, "pod unbound does not have a host assigned"],
      ["/api/v1/namespaces/default/pods/done/exec?command=sh", { headers: h }, 400, "cannot exec into a container in a completed pod; current phase is Succeeded"],
      ["/api/v1/namespaces/default/pods/web/exec?command=sh", {}, 400, "Upgrade request required"],
      ["/api/v1/namespaces/default/pods/web/exec?command=sh", { method: "POST", headers: { connection: "Upgrade", upgrade: "SPDY/3.1", "x-stream-protocol-version": "v4.channel.k8s.io" } }, 400, "over a SPDY upgrade is not supported"],
      ["/api/v1/namespaces/default/pods/web/exec?command=sh", { headers: wsHeaders("base64.channel.k8s.io") }, 400, "none of the offered subprotocols (base64.channel.k8s.io)"],
      ["/api/v1/namespaces/default/pods/web/exec?command=sh", { method: "PUT", headers: h }, 405, "does not allow this method"],
    ];
    for (const [path, init, code, message] of cases) {
      const r = await status(path, init);
      expect({ path, code: r.code, kind: r.body.kind }).toEqual({ path, code, kind: "Status" });
      expect(r.body.message).toContain(message);
    }
  });

  test("an agent that refuses the API server (no token here) is a 503", async () => {
    // The kernel listens over HTTPS (the default): the admin certificate.
    const res = await fetch(`${kernel.url}/api/v1/namespaces/default/pods/web/exec?command=sh`, { headers: wsHeaders("v5.channel.k8s.io"), tls: kernel.clientTls } as RequestInit);
    const r = { code: res.status, body: (await res.json()) as { reason: string; message: string } };
    expect(r.code).toBe(503);
    expect(r.body.reason).toBe("ServiceUnavailable");
    expect(r.body.message).toContain("error dialing the agent of node n1");
  });
});

test("where the runtime cannot upgrade (no Bun server beside the request), exec and port-forward say so", async () => {
  const deps = { registry: kernel.registry, store: kernel.store, storage: kernel.storage, patch: defaultServices().patch };
  const app = createApiServer(deps, { agents: { token: TOKEN } }).app;
  for (const [path, protocol] of [
    ["/api/v1/namespaces/default/pods/web/exec?command=sh", "v5.channel.k8s.io"],
    ["/api/v1/namespaces/default/pods/web/portforward", "SPDY/3.1+portforward.k8s.io"],
  ] as const) {
    const r = await app.fetch(new Request(`http://x${path}`, { headers: wsHeaders(protocol) }));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toMatch(/needs WebSocket upgrades, which the API server accepts only when it runs on Bun/);
  }
});

test("the exec container: the asked one (any kind), else the default-container annotation's if it exists, else the first", () => {
  const pod = (annotations: Record<string, string>, containers: string[]) =>
    ({ metadata: { name: "p", annotations }, spec: { containers: containers.map((name) => ({ name })), initContainers: [{ name: "init" }] } }) as never;
  expect(execContainer(pod({}, ["a", "b"]), null)).toBe("a");
  expect(execContainer(pod({}, ["a", "b"]), "init")).toBe("init");
  expect(execContainer(pod({ "kubectl.kubernetes.io/default-container": "b" }, ["a", "b"]), null)).toBe("b");
  expect(execContainer(pod({ "kubectl.kubernetes.io/default-container": "gone" }, ["a", "b"]), null)).toBe("a");
  expect(() => execContainer(pod({}, []), null)).toThrow("a container name must be specified for pod p");
  expect(() => execContainer(pod({}, ["a"]), "b")).toThrow("container b is not valid for pod p");
});

test("attach is a 400; an unknown pod a 404", async () => {
  const r = await status("/api/v1/namespaces/default/pods/web/attach?stdout=true", { method: "POST" });
  expect([r.code, r.body.message]).toEqual([400, "attach is not supported"]);
  expect((await status("/api/v1/namespaces/default/pods/nope/attach", { method: "POST" })).code).toBe(404);
});

test("pods/log carries the agent token too", async () => {
  const r = await fetch(`http://${base}/api/v1/namespaces/default/pods/web/log?container=main`);
  expect(await r.text()).toBe("log of /containerLogs/default/web/main\n");
});

test("discovery lists log, exec, attach and portforward on pods", async () => {
  const r = await fetch(`http://${base}/api/v1`);
  const names = ((await r.json()).resources as { name: string; verbs: string[]; kind: string }[]).filter((x) => x.name.startsWith("pods/"));
  const by = Object.fromEntries(names.map((x) => [x.name, [x.kind, x.verbs]]));
  expect(by["pods/log"]).toEqual(["Pod", ["get"]]);
  expect(by["pods/exec"]).toEqual(["PodExecOptions", ["create", "get"]]);
  expect(by["pods/attach"]).toEqual(["PodAttachOptions", ["create", "get"]]);
  expect(by["pods/portforward"]).toEqual(["PodPortForwardOptions", ["create", "get"]]);
});

/**
 * A bare WebSocket client over TCP: WebSocket APIs refuse a subprotocol with
 * a "/" in it, which kubectl's `SPDY/3.1+portforward.k8s.io` has.
 */
async function rawWebSocket(path: string, protocol: string) {
  const sock: Socket = connect(api.port, "127.0.0.1");
  await new Promise<void>((r) => sock.once("connect", () => r()));
  sock.write(`GET ${path} HTTP/1.1\r\nHost: ${base}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  const head = await new Promise<string>((resolve) => {
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      sock.off("data", onData);
      const h = buf.subarray(0, end).toString();
      buf = buf.subarray(end + 4);
      resolve(h);
    };
    sock.on("data", onData);
  });
  const messages: Uint8Array[] = [];
  let closeCode: number | undefined;
  const parse = () => {
    for (;;) {
      if (buf.length < 2) return;
      const op = buf[0]! & 15;
      let len = buf[1]! & 127;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      if (buf.length < off + len) return;
      const payload = new Uint8Array(buf.subarray(off, off + len));
      buf = buf.subarray(off + len);
      if (op === 2) messages.push(payload);
      if (op === 8) closeCode = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : 1005;
    }
  };
  sock.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    parse();
  });
  parse();
  const frame = (op: number, payload: Uint8Array) => {
    const mask = Buffer.from([1, 2, 3, 4]);
    const len = payload.length;
    const hdr = len < 126 ? Buffer.from([0x80 | op, 0x80 | len]) : Buffer.from([0x80 | op, 0x80 | 126, len >> 8, len & 255]);
    const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    sock.write(Buffer.concat([hdr, mask, body]));
  };
  return {
    head,
    messages,
    closeCode: () => closeCode,
    send: (b: Uint8Array) => frame(2, b),
    close: () => {
      frame(8, Uint8Array.of(0x03, 0xe8));
      sock.end();
    },
  };
}

async function until(f: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(5);
  }
}

describe("portforward", () => {
  test("the channel protocol (client-node's) is relayed to the agent, port frames included", async () => {
    const s = open("/api/v1/namespaces/default/pods/web/portforward?ports=8080", ["v4.channel.k8s.io"]);
    await s.opened;
    s.ws.send(Uint8Array.of(0, ...enc.encode("hello")));
    await until(() => s.messages.length >= 3);
    expect(s.messages.map((m) => [...m])).toEqual([[0, 0x90, 0x1f], [1, 0x90, 0x1f], [0, ...enc.encode("HELLO")]]);
    expect(agent.seen.at(-1)!.url.search).toBe("?ports=8080");
    s.ws.close(1000);
  });

  test("SPDY tunneled in a WebSocket: each request is one agent connection; data both ways, errors on the error stream", async () => {
    const s = await rawWebSocket("/api/v1/namespaces/default/pods/web/portforward", "SPDY/3.1+portforward.k8s.io");
    expect(s.head).toMatch(/^HTTP\/1\.1 101/);
    expect(s.head.toLowerCase()).toContain("sec-websocket-protocol: spdy/3.1+portforward.k8s.io");
    const deflate = zlib.createDeflate({ dictionary: Buffer.from(HEADER_DICTIONARY) });
    let out: Buffer[] = [];
    deflate.on("data", (c: Buffer) => out.push(c));
    const compress = (b: Uint8Array) =>
      new Promise<Uint8Array>((r) => {
        deflate.write(b);
        deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          r(new Uint8Array(Buffer.concat(out)));
          out = [];
        });
      });
    const syn = async (id: number, type: string, port: number, req: number) =>
      encodeSynStream({ streamId: id, headerBlock: await compress(encodeHeaderBlock([["streamtype", type], ["port", String(port)], ["requestid", String(req)]])) });
    const reader = new FrameReader();
    const frames: RawFrame[] = [];
    const seen = () => {
      for (const m of s.messages.splice(0)) frames.push(...reader.push(m));
      return frames;
    };
    const dataOf = (id: number) => {
      const fs = seen().filter((f) => f.kind === "data" && f.streamId === id) as Extract<RawFrame, { kind: "data" }>[];
      return { text: fs.map((f) => dec.decode(f.data)).join(""), fin: fs.some((f) => (f.flags & FLAG_FIN) !== 0) };
    };
    // Request 0 to port 8080: the error stream, then the data stream, then bytes — split across messages oddly.
    const wire = Buffer.concat([await syn(1, "error", 8080, 0), await syn(3, "data", 8080, 0), encodeData(3, enc.encode("hi there, bye"))]);
    s.send(wire.subarray(0, 5));
    s.send(wire.subarray(5));
    await until(() => dataOf(3).fin);
    expect(dataOf(3)).toEqual({ text: "HI THERE, BYE", fin: true });
    expect(dataOf(1)).toEqual({ text: "", fin: true });
    const inflater = new HeaderInflater();
    const replies = seen().filter((f) => f.kind === "control" && f.type === FrameType.SynReply) as Extract<RawFrame, { kind: "control" }>[];
    expect(replies.map((f) => readSynReply(f.payload).streamId)).toEqual([1, 3]);
    for (const f of replies) expect(decodeHeaderBlock(await inflater.inflate(readSynReply(f.payload).headerBlock)).size).toBe(0);
    inflater.close();
    const pf = agent.seen.filter((x) => x.kind === "pf").at(-1)!;
    expect([pf.port, pf.protocol, pf.auth]).toEqual([8080, "v4.channel.k8s.io", `Bearer ${TOKEN}`]);
    // Request 1 to port 9: the agent's error goes to the error stream, and both streams end.
    s.send(Buffer.concat([await syn(5, "error", 9, 1), await syn(7, "data", 9, 1)]));
    await until(() => dataOf(5).fin && dataOf(7).fin);
    expect(dataOf(5).text).toBe("error forwarding port 9 to pod web: connection refused");
    expect(dataOf(7).text).toBe("");
    expect(s.closeCode()).toBeUndefined();
    s.close();
    deflate.close();
  });

  test("bad requests are Status errors", async () => {
    const h = wsHeaders("SPDY/3.1+portforward.k8s.io");
    expect((await status("/api/v1/namespaces/default/pods/nope/portforward", { headers: h })).code).toBe(404);
    const done = await status("/api/v1/namespaces/default/pods/done/portforward", { headers: h });
    expect([done.code, done.body.message]).toEqual([400, "unable to forward port because pod is not running. Current status=Succeeded"]);
    const badPort = await status("/api/v1/namespaces/default/pods/web/portforward?ports=http", { headers: h });
    expect([badPort.code, badPort.body.message]).toEqual([400, 'invalid port "http": must be a number from 1 to 65535']);
    const noPorts = await status("/api/v1/namespaces/default/pods/web/portforward", { headers: wsHeaders("v4.channel.k8s.io") });
    expect([noPorts.code, noPorts.body.message]).toEqual([400, "the ports query parameter is required for the v4.channel.k8s.io protocol"]);
    const spdy = await status("/api/v1/namespaces/default/pods/web/portforward", { method: "POST", headers: { connection: "Upgrade", upgrade: "SPDY/3.1", "x-stream-protocol-version": "portforward.k8s.io" } });
    expect(spdy.code).toBe(400);
    expect(spdy.body.message).toContain("SPDY/3.1+portforward.k8s.io");
  });
});
