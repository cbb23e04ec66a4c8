/** @module The node-restriction plugin in a kernel: the request's user reaches admission, and node identities are restricted. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { isApiError } from "../../../core/api/errors.ts";
import { inProcessClient } from "../../../core/client/fetch-client.ts";
import { createKernel, type Kernel } from "../../../core/kernel.ts";
import { definePlugin, type AdmissionRequest, type Plugin } from "../../../core/plugin/types.ts";
import { createNodeRestrictionPlugin } from "./index.ts";

const NODES = { group: "", version: "v1", resource: "nodes", namespaced: false };
const PODS = { group: "", version: "v1", resource: "pods" };
const seen: AdmissionRequest["userInfo"][] = [];
const recorder = definePlugin({
  manifest: { name: "recorder", version: "0.0.1" },
  register(container, _c, tokens) {
    container.register(tokens.Admission, { useValue: { name: "record", resources: ["configmaps"], validate: (r: AdmissionRequest) => void seen.push(r.userInfo) } });
  },
});

let kernel: Kernel;
beforeAll(async () => {
  kernel = await createKernel({ memory: true, plugins: { available: [createNodeRestrictionPlugin(), recorder] as Plugin<never>[] } });
});
afterAll(() => kernel.stop());

const as = (name: string, groups: string[]) =>
  inProcessClient(kernel.api.app.fetch, { fieldManager: "test", user: { user: { name, groups }, authenticator: "test" } });

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isApiError(e)) return `${e.code} ${e.message}`;
    throw e;
  }
  return "allowed";
}

test("admission sees who writes: the kernel's identity in-process, the authenticated user otherwise", async () => {
  await kernel.client.create({ group: "", version: "v1", resource: "configmaps" }, { metadata: { name: "a", namespace: "default" } });
  await as("alice", ["system:authenticated"]).delete({ group: "", version: "v1", resource: "configmaps" }, "a", { namespace: "default" });
  expect(seen[0]).toEqual({ username: "system:skiff-kernel", groups: ["system:masters", "system:authenticated"] });
  expect(seen[1]).toEqual({ username: "alice", groups: ["system:authenticated"] });
});

test("a node may write its own Node but not another's, nor create ordinary pods", async () => {
  const n1 = as("system:node:n1", ["system:nodes", "system:authenticated"]);
  await n1.create(NODES, { metadata: { name: "n1" } });
  expect(await refusal(n1.create(NODES, { metadata: { name: "n2" } }))).toBe('403 nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
  await kernel.client.create(NODES, { metadata: { name: "n2" } });
  expect(await refusal(n1.patch(NODES, "n2", "merge", { metadata: { labels: { a: "b" } } }))).toBe('403 nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
  expect(await refusal(n1.patch(NODES, "n1", "merge", { spec: { taints: [{ key: "k", effect: "NoSchedule" }] } }))).toBe('403 nodes "n1" is forbidden: node "n1" is not allowed to modify taints');
  expect(await refusal(n1.create(PODS, { metadata: { name: "p", namespace: "default" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }] } }))).toBe(
    '403 pods "p" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods',
  );
  expect(await refusal(n1.delete(NODES, "n2"))).toBe('403 nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
  // Other users are not restricted.
  await kernel.client.patch(NODES, "n2", "merge", { metadata: { labels: { a: "b" } } });
});
