import { afterEach, expect, test } from "bun:test";
import { isApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import { createKernel, type Kernel } from "../kernel.ts";

const NS = { group: "", version: "v1", resource: "namespaces", namespaced: false };
const CM = { group: "", version: "v1", resource: "configmaps" };

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.stop();
  kernel = undefined;
});

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (isApiError(e)) return e.code;
    throw e;
  }
}

test("namespaces/finalize replaces spec.finalizers and removes a terminating namespace left with none", async () => {
  kernel = await createKernel({ memory: true, inlineControllers: false });
  const c = kernel.client;
  await c.create(NS, { metadata: { name: "doomed" } });
  await c.delete(NS, "doomed");
  const held = await c.get<KubeObject & { spec: { finalizers: string[] }; status: { phase: string } }>(NS, "doomed");
  expect(held.status.phase).toBe("Terminating");
  expect(held.spec.finalizers).toEqual(["kubernetes"]);
  // Only spec.finalizers changes through finalize.
  const out = await c.updateSubresource(NS, "doomed", "finalize", { ...held, metadata: { ...held.metadata, labels: { sneaky: "x" } }, spec: { finalizers: ["example.com/other"] } });
  expect((out.spec as { finalizers: string[] }).finalizers).toEqual(["example.com/other"]);
  expect(out.metadata.labels?.sneaky).toBeUndefined();
  await c.updateSubresource(NS, "doomed", "finalize", { ...out, spec: { finalizers: [] } });
  expect(await code(c.get(NS, "doomed"))).toBe(404);
});

test("no new finalizers can be added to an object being deleted", async () => {
  kernel = await createKernel({ memory: true });
  const c = kernel.client;
  await c.create(CM, { metadata: { name: "held", namespace: "default", finalizers: ["example.com/a"] } });
  await c.delete(CM, "held", { namespace: "default" });
  let err: unknown;
  try {
    await c.patch(CM, "held", "merge", { metadata: { finalizers: ["example.com/a", "example.com/b"] } }, { namespace: "default" });
  } catch (e) {
    err = e;
  }
  expect(isApiError(err) && err.code).toBe(422);
  expect((err as Error).message).toBe(
    'ConfigMap "held" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/b"}',
  );
  // Removing the last one still completes the deletion.
  await c.patch(CM, "held", "merge", { metadata: { finalizers: null } }, { namespace: "default" });
  expect(await code(c.get(CM, "held", { namespace: "default" }))).toBe(404);
});
