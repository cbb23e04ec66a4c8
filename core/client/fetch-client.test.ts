import { describe, expect, test } from "bun:test";
import { ApiError } from "../api/errors.ts";
import { FetchClient, httpClient, inProcessClient } from "./fetch-client.ts";
import type { ResourceRef, WatchEvent } from "./types.ts";
import { LineSplitter, parseWatchLine } from "./watch-stream.ts";

const PODS: ResourceRef = { group: "", version: "v1", resource: "pods" };
const NODES: ResourceRef = { group: "", version: "v1", resource: "nodes", namespaced: false };
const DEPLOYMENTS: ResourceRef = { group: "apps", version: "v1", resource: "deployments" };

interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

/** A transport that records requests and answers each with `answer(req)`. */
function recorder(answer: (req: Request) => Response | Promise<Response> = () => Response.json({ metadata: {} })) {
  const seen: Seen[] = [];
  const fetch = async (req: Request) => {
    seen.push({ method: req.method, url: new URL(req.url), headers: req.headers, body: await req.text() });
    return answer(req);
  };
  return { seen, fetch };
}

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

function streamOf(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i >= chunks.length) return c.close();
      const x = chunks[i++]!;
      c.enqueue(typeof x === "string" ? enc.encode(x) : x);
    },
  });
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("requests on the wire", () => {
  test("paths: namespaced, cluster-scoped, grouped, subresources", async () => {
    const { seen, fetch } = recorder();
    const c = inProcessClient(fetch);
    await c.get(PODS, "p", { namespace: "ns" });
    await c.get(NODES, "n1");
    await c.list(DEPLOYMENTS);
    await c.list(DEPLOYMENTS, { namespace: "ns" });
    await c.getSubresource(DEPLOYMENTS, "d", "scale", { namespace: "ns" });
    await c.updateStatus(PODS, { metadata: { name: "p", namespace: "ns" } });
    await c.createSubresource(PODS, "p", "binding", { metadata: { name: "p" } }, { namespace: "ns" });
    expect(seen.map((s) => `${s.method} ${s.url.pathname}`)).toEqual([
      "GET /api/v1/namespaces/ns/pods/p",
      "GET /api/v1/nodes/n1",
      "GET /apis/apps/v1/deployments",
      "GET /apis/apps/v1/namespaces/ns/deployments",
      "GET /apis/apps/v1/namespaces/ns/deployments/d/scale",
      "PUT /api/v1/namespaces/ns/pods/p/status",
      "POST /api/v1/namespaces/ns/pods/p/binding",
    ]);
    expect(seen[0]!.url.origin).toBe("http://skiff.local");
  });

  test("a name that needs escaping is escaped", async () => {
    const { seen, fetch } = recorder();
    await inProcessClient(fetch).get(NODES, "a b/c");
    expect(seen[0]!.url.pathname).toBe("/api/v1/nodes/a%20b%2Fc");
  });

  test("write options become query parameters; the client's manager is the default", async () => {
    const { seen, fetch } = recorder();
    const c = inProcessClient(fetch, { fieldManager: "mgr", userAgent: "ua/1" });
    await c.create(PODS, { metadata: { name: "p", namespace: "ns" } }, { dryRun: true, fieldValidation: "Strict" });
    await c.patch(PODS, "p", "apply", { metadata: { name: "p" } }, { namespace: "ns", force: true, fieldManager: "other" });
    await c.patch(PODS, "p", "merge", { metadata: {} }, { namespace: "ns", force: true });
    const q = (i: number) => Object.fromEntries(seen[i]!.url.searchParams);
    expect(q(0)).toEqual({ fieldManager: "mgr", fieldValidation: "Strict", dryRun: "All" });
    expect(q(1)).toEqual({ fieldManager: "other", force: "true" });
    // `force` is only meaningful (and only accepted) for apply.
    expect(q(2)).toEqual({ fieldManager: "mgr" });
    expect(seen[0]!.headers.get("user-agent")).toBe("ua/1");
    expect(seen[0]!.headers.get("content-type")).toBe("application/json");
  });

  test("patch content types", async () => {
    const { seen, fetch } = recorder();
    const c = inProcessClient(fetch);
    for (const t of ["json", "merge", "strategic", "apply"] as const) await c.patch(PODS, "p", t, t === "json" ? [] : {}, { namespace: "ns" });
    expect(seen.map((s) => s.headers.get("content-type"))).toEqual([
      "application/json-patch+json",
      "application/merge-patch+json",
      "application/strategic-merge-patch+json",
      "application/apply-patch+yaml",
    ]);
    expect(seen[3]!.body).toBe("{}");
  });

  test("delete sends DeleteOptions; deleteCollection sends selectors too", async () => {
    const { seen, fetch } = recorder();
    const c = inProcessClient(fetch);
    await c.delete(PODS, "p", {
      namespace: "ns",
      gracePeriodSeconds: 0,
      propagationPolicy: "Foreground",
      preconditions: { uid: "u", resourceVersion: "7" },
      dryRun: true,
    });
    await c.deleteCollection(PODS, { namespace: "ns", labelSelector: "a=b", fieldSelector: "spec.nodeName=n1", propagationPolicy: "Background" });
    expect(JSON.parse(seen[0]!.body)).toEqual({
      kind: "DeleteOptions",
      apiVersion: "v1",
      gracePeriodSeconds: 0,
      propagationPolicy: "Foreground",
      preconditions: { uid: "u", resourceVersion: "7" },
      dryRun: ["All"],
    });
    expect(seen[1]!.url.pathname).toBe("/api/v1/namespaces/ns/pods");
    expect(Object.fromEntries(seen[1]!.url.searchParams)).toEqual({ labelSelector: "a=b", fieldSelector: "spec.nodeName=n1" });
    expect(JSON.parse(seen[1]!.body).propagationPolicy).toBe("Background");
  });

  test("list and watch parameters", async () => {
    const { seen, fetch } = recorder(() => new Response(""));
    const c = inProcessClient(fetch);
    await c.list(PODS, { labelSelector: "a", fieldSelector: "b=c", limit: 5, continue: "tok", resourceVersion: "9", resourceVersionMatch: "NotOlderThan" });
    const w = c.watch(PODS, { namespace: "ns", resourceVersion: "10", allowWatchBookmarks: true, timeoutSeconds: 30, sendInitialEvents: true });
    await collect(w);
    expect(Object.fromEntries(seen[0]!.url.searchParams)).toEqual({
      labelSelector: "a",
      fieldSelector: "b=c",
      limit: "5",
      continue: "tok",
      resourceVersion: "9",
      resourceVersionMatch: "NotOlderThan",
    });
    expect(seen[1]!.url.pathname).toBe("/api/v1/namespaces/ns/pods");
    expect(Object.fromEntries(seen[1]!.url.searchParams)).toEqual({
      watch: "1",
      resourceVersion: "10",
      allowWatchBookmarks: "true",
      timeoutSeconds: "30",
      sendInitialEvents: "true",
      resourceVersionMatch: "NotOlderThan",
    });
  });

  test("httpClient sends the bearer token and strips a trailing slash", async () => {
    const { seen, fetch } = recorder();
    const c = httpClient({ server: "https://api.example:6443/", token: "s3cret", fetch });
    await c.get(NODES, "n");
    expect(seen[0]!.url.href).toBe("https://api.example:6443/api/v1/nodes/n");
    expect(seen[0]!.headers.get("authorization")).toBe("Bearer s3cret");
    const anon = recorder();
    await httpClient({ server: "http://x", fetch: anon.fetch }).get(NODES, "n");
    expect(anon.seen[0]!.headers.get("authorization")).toBeNull();
  });

  test("a missing namespace or name is a BadRequest before any request", async () => {
    const { seen, fetch } = recorder();
    const c = inProcessClient(fetch);
    expect((await caught(c.get(PODS, "p"))).reason).toBe("BadRequest");
    expect((await caught(c.create(PODS, { metadata: { name: "p" } }))).reason).toBe("BadRequest");
    expect((await caught(c.update(PODS, { metadata: { namespace: "ns" } }))).reason).toBe("BadRequest");
    expect(seen).toEqual([]);
  });
});

describe("errors", () => {
  test("a Status body becomes the ApiError it describes", async () => {
    const status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: 'pods "p" already exists', reason: "AlreadyExists", code: 409, details: { name: "p", kind: "pods" } };
    const c = inProcessClient(() => Response.json(status, { status: 409 }));
    const e = await caught(c.create(PODS, { metadata: { name: "p", namespace: "ns" } }));
    expect(e.reason).toBe("AlreadyExists");
    expect(e.code).toBe(409);
    expect(e.message).toBe('pods "p" already exists');
    expect(e.details).toEqual({ name: "p", kind: "pods" });
  });

  test("a body that is not a Status gets the reason of its code", async () => {
    const c = inProcessClient(() => new Response("<html>bad gateway</html>", { status: 502 }));
    const e = await caught(c.get(NODES, "n"));
    expect(e.reason).toBe("InternalError");
    expect(e.code).toBe(502);
    expect(e.message).toContain("bad gateway");
    const busy = inProcessClient(() => new Response("slow down", { status: 429, headers: { "retry-after": "3" } }));
    const t = await caught(busy.get(NODES, "n"));
    expect(t.reason).toBe("TooManyRequests");
    expect(t.details?.retryAfterSeconds).toBe(3);
  });

  test("a connection failure is ServiceUnavailable with the cause kept", async () => {
    const c = httpClient({ server: "http://127.0.0.1:1" });
    const e = await caught(c.get(NODES, "n"));
    expect(e.reason).toBe("ServiceUnavailable");
    expect(e.code).toBe(503);
    expect(e.message).toContain("http://127.0.0.1:1");
    expect(e.cause).toBeDefined();
    const w = c.watch(NODES);
    expect((await caught(collect(w))).reason).toBe("ServiceUnavailable");
  });

  test("a failed watch request throws from the iterator", async () => {
    const c = inProcessClient(() => Response.json({ kind: "Status", reason: "Forbidden", message: "no", code: 403 }, { status: 403 }));
    const w = c.watch(PODS);
    expect((await caught(collect(w))).reason).toBe("Forbidden");
  });
});

describe("watch streams", () => {
  test("lines split across chunks, several per chunk, multi-byte characters split", async () => {
    const obj = (name: string) => ({ kind: "Pod", metadata: { name, resourceVersion: "1" } });
    const text = ["\n", JSON.stringify({ type: "ADDED", object: obj("ä→b") }), "\n", JSON.stringify({ type: "MODIFIED", object: obj("c") }), "\n\n", JSON.stringify({ type: "DELETED", object: obj("d") })].join("");
    const bytes = new TextEncoder().encode(text);
    // Cut into 3-byte pieces so that lines and UTF-8 sequences straddle chunks.
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 3) chunks.push(bytes.slice(i, i + 3));
    const c = inProcessClient(() => new Response(streamOf(chunks)));
    const evs: WatchEvent[] = await collect(c.watch(PODS));
    expect(evs.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED ä→b", "MODIFIED c", "DELETED d"]);
  });

  test("an ERROR event throws its Status as an ApiError after the events before it", async () => {
    const lines = [
      JSON.stringify({ type: "ADDED", object: { metadata: { name: "a" } } }),
      JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", status: "Failure", message: "too old resource version: 5 (9)", reason: "Expired", code: 410 } }),
      "",
    ].join("\n");
    const c = inProcessClient(() => new Response(streamOf([lines])));
    const seen: string[] = [];
    const e = await caught(
      (async () => {
        for await (const ev of c.watch(PODS)) seen.push(ev.type);
      })(),
    );
    expect(seen).toEqual(["ADDED"]);
    expect(e.reason).toBe("Expired");
    expect(e.code).toBe(410);
    expect(e.message).toContain("too old");
  });

  test("malformed lines are InternalError", () => {
    expect(() => parseWatchLine("{nope")).toThrow(ApiError);
    expect(() => parseWatchLine('{"type":"SIDEWAYS","object":{}}')).toThrow("unexpected watch event");
  });

  test("LineSplitter keeps the remainder until end()", () => {
    const s = new LineSplitter();
    const enc = new TextEncoder();
    expect(s.push(enc.encode("ab"))).toEqual([]);
    expect(s.push(enc.encode("c\n\n  \nde"))).toEqual(["abc"]);
    expect(s.end()).toEqual(["de"]);
    expect(s.end()).toEqual([]);
  });

  test("close() while a read is pending ends the iteration and cancels the body", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const c = new FetchClient({ baseUrl: "http://x", fetch: () => new Response(body) });
    const w = c.watch(PODS);
    const seen: string[] = [];
    const done = (async () => {
      for await (const ev of w) {
        seen.push(ev.object.metadata.name!);
        setTimeout(() => w.close(), 10);
      }
    })();
    await done;
    expect(seen).toEqual(["a"]);
    expect(cancelled).toBe(true);
  });

  test("a stream can be iterated once", async () => {
    const c = inProcessClient(() => new Response(""));
    const w = c.watch(PODS);
    await collect(w);
    await expect(collect(w)).rejects.toThrow("only once");
  });
});
