/**
 * @module Benchmark: the RBAC authorizer with 1,000 bindings (900
 * RoleBindings over 10 namespaces, 100 ClusterRoleBindings, 300 users).
 * A decision looks only at the bindings of the user and its groups (checked
 * through `lastBindingsExamined`), and its p99 stays far below a millisecond.
 * Prints one JSON line with the measured percentiles.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { KubeObject } from "../../../api/meta.ts";
import { createKernel, type Kernel } from "../../../kernel.ts";
import type { RequestAttributes, UserInfo } from "../types.ts";
import { CLUSTER_ROLE_BINDINGS, ROLE_BINDINGS, ROLES } from "./authorizer.ts";

const NAMESPACES = 10;
const USERS = 300;
let k: Kernel;

function rb(name: string, ns: string | undefined, role: [string, string], subjects: object[]): KubeObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: ns ? "RoleBinding" : "ClusterRoleBinding",
    metadata: { name, ...(ns ? { namespace: ns } : {}) },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: role[0], name: role[1] },
    subjects,
  } as KubeObject;
}

beforeAll(async () => {
  k = await createKernel({ memory: true });
  const writes: Promise<unknown>[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    const ns = `ns-${n}`;
    await k.client.create({ group: "", version: "v1", resource: "namespaces", namespaced: false }, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    writes.push(
      k.client.create(ROLES, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "worker", namespace: ns },
        rules: [{ verbs: ["get", "list", "watch", "update"], apiGroups: ["", "apps"], resources: ["configmaps", "deployments", "pods"] }],
      } as KubeObject),
    );
    for (let i = 0; i < 90; i++) {
      const u = `user-${(n * 90 + i) % USERS}`;
      const role: [string, string] = i % 3 === 0 ? ["Role", "worker"] : ["ClusterRole", i % 3 === 1 ? "view" : "edit"];
      const subjects = [{ kind: "User", name: u }, ...(role[1] === "view" ? [{ kind: "Group", name: `team-${i % 20}` }] : [])];
      writes.push(k.client.create(ROLE_BINDINGS, rb(`b-${i}`, ns, role, subjects)));
    }
  }
  for (let i = 0; i < 100; i++) writes.push(k.client.create(CLUSTER_ROLE_BINDINGS, rb(`crb-${i}`, undefined, ["ClusterRole", "view"], [{ kind: "User", name: `auditor-${i}` }])));
  await Promise.all(writes);
  const bindings = (await k.client.list(ROLE_BINDINGS)).items.length + (await k.client.list(CLUSTER_ROLE_BINDINGS)).items.length;
  expect(bindings).toBeGreaterThanOrEqual(1000);
  // Wait until the authorizer's caches hold them all.
  const deadline = Date.now() + 5000;
  while ((await k.rbac.authorize({ name: "auditor-99", groups: [] }, attrs("get", "pods", "ns-0"))).decision !== "allow") {
    if (Date.now() > deadline) throw new Error("bindings never reached the authorizer");
    await new Promise((r) => setTimeout(r, 10));
  }
});

afterAll(async () => {
  await k.stop();
});

function attrs(verb: string, resource: string, namespace: string): RequestAttributes {
  return { resourceRequest: true, path: "", verb, apiGroup: "", apiVersion: "v1", resource, subresource: "", namespace, name: verb === "list" ? "" : "x" };
}

test("1,000 bindings: p99 of a decision, and only the user's bindings are examined", async () => {
  const samples: number[] = [];
  let allowedCount = 0;
  let maxExamined = 0;
  const verbs = ["get", "list", "update", "delete"];
  const resources = ["pods", "secrets", "configmaps"];
  for (let i = 0; i < 20_000; i++) {
    const u: UserInfo = { name: `user-${i % USERS}`, groups: [`team-${i % 20}`, "system:authenticated"] };
    const a = attrs(verbs[i % verbs.length]!, resources[i % resources.length]!, `ns-${i % NAMESPACES}`);
    const t = performance.now();
    const r = k.authorizer.authorize(u, a);
    const d = r instanceof Promise ? await r : r;
    samples.push(performance.now() - t);
    if (d.decision === "allow") allowedCount++;
    maxExamined = Math.max(maxExamined, k.rbac.lastBindingsExamined);
  }
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!;
  const result = { bindings: 1000, decisions: samples.length, allowed: allowedCount, p50_us: Math.round(pct(50) * 1000), p99_us: Math.round(pct(99) * 1000), max_examined: maxExamined };
  console.log(JSON.stringify(result));
  // A user here has ≤ 3 bindings of its own; its group ~5 per namespace; system:authenticated 2 (discovery, basic-user).
  expect(maxExamined).toBeLessThanOrEqual(12);
  expect(allowedCount).toBeGreaterThan(0);
  expect(allowedCount).toBeLessThan(samples.length);
  expect(pct(99)).toBeLessThan(1);
});
