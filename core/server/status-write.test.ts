import { afterEach, expect, test } from "bun:test";
import type { KubeObject } from "../api/meta.ts";
import { createKernel, type Kernel } from "../kernel.ts";

const DEPLOY = { group: "apps", version: "v1", resource: "deployments" };

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.stop();
  kernel = undefined;
});

test("a Deployment status write carries annotations without moving generation; a main write of annotations moves it", async () => {
  kernel = await createKernel({ memory: true, inlineControllers: false });
  const c = kernel.client;
  const d = await c.create<KubeObject>(DEPLOY, {
    metadata: { name: "web", namespace: "default" },
    spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "i" }] } } },
  });
  expect(d.metadata.generation).toBe(1);
  const s = await c.updateStatus<KubeObject>(DEPLOY, {
    ...d,
    metadata: { ...d.metadata, annotations: { "deployment.kubernetes.io/revision": "1" } },
    status: { observedGeneration: 1, replicas: 0 },
  });
  expect(s.metadata.annotations).toEqual({ "deployment.kubernetes.io/revision": "1" });
  expect(s.metadata.generation).toBe(1);
  const m = await c.patch(DEPLOY, "web", "merge", { metadata: { annotations: { note: "x" } } }, { namespace: "default" });
  expect(m.metadata.generation).toBe(2);
});
