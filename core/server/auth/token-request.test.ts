/**
 * @module TokenRequest from nodes (the agent's projected ServiceAccount
 * tokens) on a secure in-memory kernel: the Node authorizer lets a node ask
 * only for service accounts its pods run as, the handler only for tokens
 * bound to one of its pods (upstream NodeRestriction), and a bound token
 * authenticates while its pod exists with the same uid.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import { createKernel, type Kernel } from "../../kernel.ts";
import { setRequestUser, type UserInfo } from "./types.ts";

const PODS = { group: "", version: "v1", resource: "pods" } as const;
const SAS = { group: "", version: "v1", resource: "serviceaccounts" } as const;
const n1: UserInfo = { name: "system:node:n1", groups: ["system:nodes", "system:authenticated"] };
const n2: UserInfo = { name: "system:node:n2", groups: ["system:nodes", "system:authenticated"] };

let k: Kernel;
const uids: Record<string, string> = {};

async function call(method: string, path: string, o: { as?: UserInfo; token?: string; body?: unknown } = {}): Promise<{ code: number; body: Record<string, unknown> }> {
  const req = new Request(`https://skiff.local${path}`, {
    method,
    headers: { "content-type": "application/json", ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
    ...(o.body ? { body: JSON.stringify(o.body) } : {}),
  });
  if (o.as) setRequestUser(req, { user: o.as, authenticator: "test" });
  const res = await k.api.app.fetch(req);
  return { code: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

const tokenRequest = (pod?: string, uid?: string) => ({
  apiVersion: "authentication.k8s.io/v1",
  kind: "TokenRequest",
  spec: { audiences: [], expirationSeconds: 3607, ...(pod ? { boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod, ...(uid ? { uid } : {}) } } : {}) },
});

async function eventually(what: string, f: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  k = await createKernel({ memory: true, security: { enabled: true } });
  await k.client.create({ group: "", version: "v1", resource: "namespaces", namespaced: false }, { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } });
  for (const sa of ["web-sa", "idle-sa"]) await k.client.create(SAS, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa, namespace: "apps" } });
  for (const [name, node] of [
    ["web", "n1"],
    ["web-2", "n2"],
  ] as const) {
    const p = await k.client.create(PODS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "apps" },
      spec: { nodeName: node, serviceAccountName: "web-sa", automountServiceAccountToken: false, containers: [{ name: "c", image: "busybox" }] },
    } as KubeObject);
    uids[name] = p.metadata.uid!;
  }
  await eventually("the node authorizer's pod cache", async () => {
    const r = await call("POST", "/api/v1/namespaces/apps/serviceaccounts/web-sa/token", { as: n1, body: tokenRequest("web", uids.web) });
    if (r.code !== 201 && r.code !== 403) throw new Error(JSON.stringify(r));
    return r.code === 201;
  });
});

afterAll(async () => {
  await k.stop();
});

describe("TokenRequest from a node", () => {
  test("only for a service account its pods use, bound to one of its pods, with the pod's uid", async () => {
    const ok = await call("POST", "/api/v1/namespaces/apps/serviceaccounts/web-sa/token", { as: n1, body: tokenRequest("web", uids.web) });
    expect(ok.code).toBe(201);
    expect((ok.body.status as { token?: string }).token).toBeString();
    // Not used by any pod on n1: the Node authorizer has no opinion, RBAC denies.
    expect((await call("POST", "/api/v1/namespaces/apps/serviceaccounts/idle-sa/token", { as: n1, body: tokenRequest("web", uids.web) })).code).toBe(403);
    const unbound = await call("POST", "/api/v1/namespaces/apps/serviceaccounts/web-sa/token", { as: n1, body: tokenRequest() });
    expect(unbound.code).toBe(403);
    expect(unbound.body.message).toContain("node requested token not bound to a pod");
    const noUid = await call("POST", "/api/v1/namespaces/apps/serviceaccounts/web-sa/token", { as: n1, body: tokenRequest("web") });
    expect(noUid.code).toBe(403);
    expect(noUid.body.message).toContain("node requested token with a pod binding without a uid");
    // web-2 runs web-sa too (so the authorizer lets n1 ask), but on n2.
    const elsewhere = await call("POST", "/api/v1/namespaces/apps/serviceaccounts/web-sa/token", { as: n1, body: tokenRequest("web-2", uids["web-2"]) });
    expect(elsewhere.code).toBe(403);
    expect(elsewhere.body.message).toContain("node requested token bound to a pod scheduled on a different node");
    expect((await call("POST", "/api/v1/namespaces/apps/serviceaccounts/web-sa/token", { as: n2, body: tokenRequest("web-2", uids["web-2"]) })).code).toBe(201);
    // Anyone else (here the kernel's own client) is not restricted this way.
    expect((await call("POST", "/api/v1/namespaces/apps/serviceaccounts/idle-sa/token", { as: { name: "system:admin", groups: ["system:masters"] }, body: tokenRequest() })).code).toBe(201);
  });

  test("a bound token authenticates while its pod exists, and not after", async () => {
    const issued = await call("POST", "/api/v1/namespaces/apps/serviceaccounts/web-sa/token", { as: n1, body: tokenRequest("web", uids.web) });
    const token = (issued.body.status as { token: string }).token;
    // Authenticated (RBAC then forbids the ServiceAccount: 403, not 401).
    expect((await call("GET", "/api/v1/namespaces/apps/secrets", { token })).code).toBe(403);
    await k.client.delete(PODS, "web", { namespace: "apps", gracePeriodSeconds: 0 });
    expect((await call("GET", "/api/v1/namespaces/apps/secrets", { token })).code).toBe(401);
  });
});
