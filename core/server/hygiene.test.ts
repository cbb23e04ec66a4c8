import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createKernel, type Kernel } from "../kernel.ts";
import { setRequestUser } from "./auth/types.ts";
import { MAX_BODY_BYTES } from "./request.ts";
import { CONNECTION } from "./auth/connection.ts";
import { internalErrorResponse, isLongRunning, remoteAddress, RequestGuard, sourceAddress } from "./hygiene.ts";
import { createApiServer } from "./app.ts";
import { defaultServices } from "./services.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What Bun passes as `env`: enough of the server for the guard (peer address, per-request timeout). */
function bunEnv(ip: string, timeouts: number[] = []) {
  return { requestIP: () => ({ address: ip }), timeout: (_r: Request, s: number) => void timeouts.push(s) };
}

const post = (path = "/api/v1/namespaces/default/configmaps", body = "{}") =>
  new Request(`http://skiff${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });

describe("isLongRunning", () => {
  test.each([
    ["/api/v1/pods?watch=true", true],
    ["/api/v1/namespaces/a/pods?watch=1&resourceVersion=3", true],
    ["/api/v1/namespaces/a/pods?watch=false", false],
    ["/api/v1/namespaces/a/pods/p/log?follow=true", true],
    ["/api/v1/namespaces/a/pods/p/log", false],
    ["/api/v1/namespaces/a/pods/p/exec?command=sh", true],
    ["/api/v1/namespaces/a/pods/p/portforward", true],
    ["/api/v1/namespaces/a/pods/p", false],
  ])("%s → %p", (path, want) => {
    expect(isLongRunning(new Request(`http://x${path}`))).toBe(want);
  });
});

describe("RequestGuard", () => {
  test("in-flight limits answer 429 with Retry-After; long-running requests are not counted", async () => {
    const g = new RequestGuard({ maxMutatingRequestsInflight: 1, maxRequestsInflight: 1 });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const h = g.wrap(async (req) => {
      if (req.method === "POST" || req.url.endsWith("/held")) await held;
      return new Response("ok");
    });
    const first = h(post(), bunEnv("10.0.0.1"));
    const second = await h(post(), bunEnv("10.0.0.2"));
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(((await second.json()) as { reason: string }).reason).toBe("TooManyRequests");
    // Reads have their own limit, not used up by the held write.
    const timeouts: number[] = [];
    const readHeld = h(new Request("http://x/api/v1/held"), bunEnv("10.0.0.3"));
    expect((await h(new Request("http://x/api/v1/pods"), bunEnv("10.0.0.3"))).status).toBe(429);
    // A watch passes however many requests are in flight, and switches the idle timeout off for itself.
    expect((await h(new Request("http://x/api/v1/pods?watch=true"), bunEnv("10.0.0.3", timeouts))).status).toBe(200);
    expect(timeouts).toEqual([0]);
    release();
    expect((await first).status).toBe(200);
    expect((await readHeld).status).toBe(200);
    expect((await h(post(), bunEnv("10.0.0.2"))).status).toBe(200);
  });

  test("the per-client bucket refuses a client that used it up, keyed by user when known, else by source IP", async () => {
    const g = new RequestGuard({ clientQps: 1, clientBurst: 2, clientBusyInflight: 0 });
    const h = g.wrap((req) => {
      const user = req.headers.get("x-test-user");
      if (user) setRequestUser(req, { user: { name: user, groups: ["system:authenticated"] }, authenticator: "test" });
      const refused = g.admit(req);
      return refused ? internalErrorResponse(refused) : new Response("ok");
    });
    const get = (user?: string) => new Request("http://x/api/v1/pods", user ? { headers: { "x-test-user": user } } : {});
    const codes = async (n: number, ip: string, user?: string) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await h(get(user), bunEnv(ip))).status);
      return out;
    };
    expect(await codes(3, "10.1.0.1")).toEqual([200, 200, 429]);
    const r = await h(get(), bunEnv("10.1.0.1"));
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Another address has its own bucket.
    expect(await codes(2, "10.1.0.2")).toEqual([200, 200]);
    // A user is one client whatever address they come from.
    expect(await codes(2, "10.1.0.3", "alice")).toEqual([200, 200]);
    expect(await codes(1, "10.1.0.4", "alice")).toEqual([429]);
    // In-process requests (not through wrap) are never limited.
    for (let i = 0; i < 5; i++) expect(g.admit(get())).toBeUndefined();
  });

  test("by default an empty bucket is enforced only while other clients have requests in flight", async () => {
    const g = new RequestGuard({ clientQps: 1, clientBurst: 1 });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const h = g.wrap(async (req) => {
      const refused = g.admit(req);
      if (refused) return internalErrorResponse(refused);
      if (req.url.endsWith("/held")) await held;
      return new Response("ok");
    });
    const get = (path = "/api/v1/pods") => new Request(`http://x${path}`);
    // Alone, a client may go past its bucket.
    for (let i = 0; i < 5; i++) expect((await h(get(), bunEnv("10.2.0.1"))).status).toBe(200);
    // Another client's request in flight: now the empty bucket counts.
    const other = h(get("/api/v1/held"), bunEnv("10.2.0.2"));
    const refused = await h(get(), bunEnv("10.2.0.1"));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as { message: string }).message).toContain("client 10.2.0.1 ");
    release();
    expect((await other).status).toBe(200);
    expect((await h(get(), bunEnv("10.2.0.1"))).status).toBe(200);
  });

  test("a body that does not arrive in time gets 408 and Connection: close; too large a body 413", async () => {
    const g = new RequestGuard({ bodyTimeoutMs: 100 });
    let reached = false;
    const h = g.wrap(() => {
      reached = true;
      return new Response("ok");
    });
    const never = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode("{")) });
    const slow = new Request("http://x/api/v1/namespaces/default/configmaps", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "100" },
      body: never,
      duplex: "half",
    } as RequestInit);
    const t0 = performance.now();
    const r = await h(slow, bunEnv("10.3.0.1"));
    expect(r.status).toBe(408);
    expect(r.headers.get("connection")).toBe("close");
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(reached).toBe(false);
    const big = await h(post(undefined, "x".repeat(MAX_BODY_BYTES + 1)), bunEnv("10.3.0.1"));
    expect(big.status).toBe(413);
  });

  test("a body that arrives is handed on intact, with the source address", async () => {
    const g = new RequestGuard();
    const h = g.wrap(async (req) => new Response(`${sourceAddress(req)} ${await req.text()}`));
    const r = await h(post(undefined, '{"a":"ü"}'), bunEnv("::ffff:10.4.0.1"));
    expect(await r.text()).toBe('10.4.0.1 {"a":"ü"}');
  });
});

describe("remoteAddress", () => {
  test("the connection facts serve.ts records win over the runtime's peer (the TLS front's loopback pipe)", () => {
    const req = new Request("http://x/api/v1/pods");
    expect(remoteAddress(req, { [CONNECTION]: { remoteAddress: "::ffff:203.0.113.9" }, requestIP: () => ({ address: "127.0.0.1" }) })).toBe("203.0.113.9");
    expect(remoteAddress(req, { incoming: { socket: { remoteAddress: "198.51.100.2" } } })).toBe("198.51.100.2");
    expect(remoteAddress(req, { remoteAddr: { hostname: "192.0.2.1" } })).toBe("192.0.2.1");
    expect(remoteAddress(req, undefined)).toBe("unknown");
  });
});

describe("no stack traces in responses", () => {
  let kernel: Kernel;
  let api: ReturnType<typeof createApiServer>;
  let dir: string;
  const SECRET_DETAIL = "at /secret/path/handler.ts:42 boom";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "skiff-hyg-"));
    kernel = await createKernel({ memory: true, audit: { path: join(dir, "audit.log") } });
    const deps = { registry: kernel.registry, store: kernel.storage.store, storage: kernel.storage, patch: defaultServices().patch };
    // A resource handler (a subresource) and a non-resource route that throw plain Errors.
    api = createApiServer(deps, {
      subresources: [
        {
          name: "boom",
          verbs: ["get"],
          appliesTo: (t) => t.key === "pods",
          handle: () => {
            throw new TypeError(SECRET_DETAIL);
          },
        },
      ],
    });
    api.app.get("/boom", () => {
      throw new RangeError(SECRET_DETAIL);
    });
  });
  afterAll(async () => {
    await kernel.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const check = async (r: Response) => {
    expect(r.status).toBe(500);
    const text = await r.text();
    const s = JSON.parse(text) as { kind: string; reason: string; code: number; message: string };
    expect(s).toMatchObject({ kind: "Status", reason: "InternalError", code: 500 });
    expect(s.message).toContain("an unexpected error occurred");
    expect(text).not.toContain("/secret/path");
    expect(text).not.toContain("    at ");
  };

  for (const path of ["/boom", "/api/v1/namespaces/default/pods/p/boom"]) {
    test(`${path}: in process, and through the network wrappers`, async () => {
      await check(await api.app.fetch(new Request(`http://x${path}`)));
      const network = kernel.audit!.wrap(kernel.guard.wrap(api.app.fetch));
      await check(await network(new Request(`http://x${path}`), bunEnv("127.0.0.1")));
    });
  }

  test("the wrappers themselves, when what they wrap throws", async () => {
    const thrower = () => {
      throw new Error(SECRET_DETAIL);
    };
    await check(await new RequestGuard().wrap(thrower)(new Request("http://x/api/v1/pods"), bunEnv("127.0.0.1")));
    await check(await kernel.audit!.wrap(thrower)(new Request("http://x/api/v1/pods")));
  });
});
