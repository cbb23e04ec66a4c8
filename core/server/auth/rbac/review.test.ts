/** @module authorization.k8s.io reviews through the API server of an in-memory kernel. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KubeObject } from "../../../api/meta.ts";
import { createKernel, type Kernel } from "../../../kernel.ts";
import { setRequestUser, type UserInfo } from "../types.ts";
import { ROLE_BINDINGS } from "./authorizer.ts";

let k: Kernel;
const BASE = "http://skiff.local/apis/authorization.k8s.io/v1";

async function post(path: string, body: unknown, as?: UserInfo): Promise<{ status: number; body: Record<string, unknown> }> {
  const req = new Request(`${BASE}/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (as) setRequestUser(req, { user: as, authenticator: "test" });
  const res = await k.api.app.fetch(req);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const ssar = (resourceAttributes: Record<string, string>) => ({ apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes } });
const jane: UserInfo = { name: "jane", groups: ["system:authenticated"] };

beforeAll(async () => {
  k = await createKernel({ memory: true });
  await k.client.create({ group: "", version: "v1", resource: "namespaces", namespaced: false }, { apiVersion: "v1", kind: "Namespace", metadata: { name: "dev" } });
  await k.client.create(ROLE_BINDINGS, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "jane-edit", namespace: "dev" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
    subjects: [{ kind: "User", name: "jane" }],
  } as KubeObject);
  const deadline = Date.now() + 3000;
  const may = async (verb: string) =>
    (await k.authorizer.authorize(jane, { resourceRequest: true, path: "", verb, apiGroup: "", apiVersion: "v1", resource: "pods", subresource: "", namespace: "dev", name: "" })).decision === "allow";
  // edit settles once view's rules have been aggregated into it.
  while (!(await may("create")) || !(await may("list"))) {
    if (Date.now() > deadline) throw new Error("jane's binding never took effect");
    await new Promise((r) => setTimeout(r, 5));
  }
});

afterAll(async () => {
  await k.stop();
});

describe("SelfSubjectAccessReview", () => {
  test("without an authenticated user, the in-process admin may do anything", async () => {
    const r = await post("selfsubjectaccessreviews", ssar({ verb: "create", resource: "pods", namespace: "default" }));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ kind: "SelfSubjectAccessReview", apiVersion: "authorization.k8s.io/v1", status: { allowed: true } });
    expect(r.body.spec).toEqual({ resourceAttributes: { verb: "create", resource: "pods", namespace: "default" } });
  });

  test("for the requesting user", async () => {
    expect((await post("selfsubjectaccessreviews", ssar({ verb: "create", resource: "pods", namespace: "dev" }), jane)).body.status).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "jane-edit/dev" of ClusterRole "edit" to User "jane"',
    });
    expect((await post("selfsubjectaccessreviews", ssar({ verb: "create", resource: "pods", namespace: "prod" }), jane)).body.status).toEqual({ allowed: false });
    expect((await post("selfsubjectaccessreviews", ssar({ verb: "create", group: "rbac.authorization.k8s.io", resource: "roles", namespace: "dev" }), jane)).body.status).toEqual({ allowed: false });
    const nonResource = await post("selfsubjectaccessreviews", { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { nonResourceAttributes: { verb: "get", path: "/apis" } } }, jane);
    expect(nonResource.body.status).toMatchObject({ allowed: true });
  });

  test("validation, methods and shapes", async () => {
    const both = await post("selfsubjectaccessreviews", { spec: { resourceAttributes: { verb: "get" }, nonResourceAttributes: { verb: "get", path: "/" } } });
    expect(both.status).toBe(422);
    expect(String(both.body.message)).toContain("spec.nonResourceAttributes: Invalid value");
    const neither = await post("selfsubjectaccessreviews", { spec: {} });
    expect(neither.status).toBe(422);
    expect(String(neither.body.message)).toContain("exactly one of nonResourceAttributes or resourceAttributes must be specified");
    expect((await post("selfsubjectaccessreviews", { kind: "SubjectAccessReview", spec: {} })).status).toBe(400);
    const get = await k.api.app.fetch(new Request(`${BASE}/selfsubjectaccessreviews`));
    expect(get.status).toBe(405);
    expect((await k.api.app.fetch(new Request(`${BASE}/selfsubjectaccessreviews/x`, { method: "POST", body: "{}" }))).status).toBe(404);
    expect((await k.api.app.fetch(new Request(`${BASE}/namespaces/dev/selfsubjectaccessreviews`, { method: "POST", body: "{}" }))).status).toBe(404);
  });
});

describe("SubjectAccessReview and LocalSubjectAccessReview", () => {
  const sar = (spec: Record<string, unknown>) => ({ apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec });

  test("ask about another user or group", async () => {
    expect((await post("subjectaccessreviews", sar({ user: "jane", resourceAttributes: { verb: "delete", resource: "secrets", namespace: "dev", name: "s" } }))).body.status).toMatchObject({ allowed: true });
    expect((await post("subjectaccessreviews", sar({ user: "jane", resourceAttributes: { verb: "delete", resource: "secrets", namespace: "prod", name: "s" } }))).body.status).toEqual({ allowed: false });
    expect((await post("subjectaccessreviews", sar({ groups: ["system:masters"], resourceAttributes: { verb: "delete", resource: "nodes" } }))).body.status).toEqual({ allowed: true });
    const noUser = await post("subjectaccessreviews", sar({ resourceAttributes: { verb: "get", resource: "pods" } }));
    expect(noUser.status).toBe(422);
    expect(String(noUser.body.message)).toContain("at least one of user or group must be specified");
  });

  test("the local kind is scoped to its namespace", async () => {
    const lsar = (ns: string) => ({ apiVersion: "authorization.k8s.io/v1", kind: "LocalSubjectAccessReview", spec: { user: "jane", resourceAttributes: { verb: "list", resource: "pods", namespace: ns } } });
    const ok = await post("namespaces/dev/localsubjectaccessreviews", lsar("dev"));
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ metadata: { namespace: "dev" }, status: { allowed: true } });
    const wrong = await post("namespaces/dev/localsubjectaccessreviews", lsar("prod"));
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toBe("spec.resourceAttributes.namespace must match namespace: dev");
  });
});

describe("SelfSubjectRulesReview", () => {
  test("lists the requesting user's rules in a namespace", async () => {
    const r = await post("selfsubjectrulesreviews", { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectRulesReview", spec: { namespace: "dev" } }, jane);
    expect(r.status).toBe(201);
    const status = r.body.status as { resourceRules: { verbs: string[]; resources?: string[] }[]; nonResourceRules: { nonResourceURLs?: string[] }[]; incomplete: boolean };
    expect(status.incomplete).toBe(false);
    expect(status.resourceRules).toContainEqual(expect.objectContaining({ resources: expect.arrayContaining(["selfsubjectaccessreviews"]) }));
    expect(status.resourceRules.some((x) => x.resources?.includes("secrets") && x.verbs.includes("create"))).toBe(true);
    expect(status.nonResourceRules.some((x) => x.nonResourceURLs?.includes("/apis/*"))).toBe(true);
    const elsewhere = await post("selfsubjectrulesreviews", { spec: { namespace: "prod" } }, jane);
    expect((elsewhere.body.status as typeof status).resourceRules.some((x) => x.resources?.includes("secrets"))).toBe(false);
    expect((await post("selfsubjectrulesreviews", { spec: {} }, jane)).status).toBe(400);
  });

  test("the in-process admin gets everything; a node is incomplete", async () => {
    const admin = await post("selfsubjectrulesreviews", { spec: { namespace: "dev" } });
    expect(admin.body.status).toMatchObject({ resourceRules: expect.arrayContaining([{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }]), incomplete: false });
    const node = await post("selfsubjectrulesreviews", { spec: { namespace: "dev" } }, { name: "system:node:n1", groups: ["system:nodes", "system:authenticated"] });
    expect(node.body.status).toMatchObject({ incomplete: true, evaluationError: "node authorizer does not support user rule resolution" });
  });
});

describe("protobuf bodies (kubectl's typed client)", () => {
  // Minimal protobuf writer: length-delimited fields only, as these messages are.
  const enc = new TextEncoder();
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  const field = (no: number, value: Uint8Array | string): number[] => {
    const bytes = typeof value === "string" ? enc.encode(value) : value;
    return [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes];
  };
  const msg = (...fields: number[][]) => new Uint8Array(fields.flat());
  const envelope = (apiVersion: string, kind: string, raw: Uint8Array) =>
    new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...field(1, msg(field(1, apiVersion), field(2, kind))), ...field(2, raw)]);

  async function postProto(path: string, body: Uint8Array<ArrayBuffer>, as?: UserInfo) {
    const req = new Request(`${BASE}/${path}`, { method: "POST", headers: { "content-type": "application/vnd.kubernetes.protobuf" }, body });
    if (as) setRequestUser(req, { user: as, authenticator: "test" });
    const res = await k.api.app.fetch(req);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  test("SelfSubjectAccessReview as kubectl auth can-i sends it", async () => {
    const ra = msg(field(1, "dev"), field(2, "create"), field(5, "pods"));
    const body = envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", msg(field(1, msg()), field(2, msg(field(1, ra)))));
    const r = await postProto("selfsubjectaccessreviews", body, jane);
    expect(r.status).toBe(201);
    expect(r.body.spec).toEqual({ resourceAttributes: { namespace: "dev", verb: "create", resource: "pods" } });
    expect(r.body.status).toMatchObject({ allowed: true });
  });

  test("SubjectAccessReview with groups and extra; SelfSubjectRulesReview", async () => {
    const extra = field(5, msg(field(1, "scopes"), field(2, msg(field(1, "a"), field(1, "b")))));
    const spec = msg(field(2, msg(field(1, "/apis"), field(2, "get"))), field(3, "zed"), field(4, "system:authenticated"), extra);
    const r = await postProto("subjectaccessreviews", envelope("authorization.k8s.io/v1", "SubjectAccessReview", msg(field(2, spec))));
    expect(r.body.spec).toEqual({ nonResourceAttributes: { path: "/apis", verb: "get" }, user: "zed", groups: ["system:authenticated"], extra: { scopes: ["a", "b"] } });
    expect(r.body.status).toMatchObject({ allowed: true });
    const rules = await postProto("selfsubjectrulesreviews", envelope("authorization.k8s.io/v1", "SelfSubjectRulesReview", msg(field(2, msg(field(1, "dev"))))), jane);
    expect(rules.status).toBe(201);
    expect(rules.body.spec).toEqual({ namespace: "dev" });
  });

  test("another kind or bad bytes", async () => {
    expect((await postProto("selfsubjectaccessreviews", envelope("v1", "Pod", msg()))).status).toBe(415);
    expect((await postProto("selfsubjectaccessreviews", new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x12, 0x05, 0x01]))).status).toBe(400);
  });
});

