import { afterEach, describe, expect, test } from "bun:test";
import { ApiError, errors, isApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import { createKernel, type Kernel } from "../kernel.ts";
import { definePlugin, type Admission, type Plugin } from "../plugin/types.ts";

const CM = { group: "", version: "v1", resource: "configmaps" };
const POD = { group: "", version: "v1", resource: "pods" };

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.stop();
  kernel = undefined;
});

async function withSteps(...steps: Admission[]): Promise<Kernel> {
  const p = definePlugin({
    manifest: { name: "admission-test", version: "0.0.1" },
    register(container, _config, tokens) {
      for (const s of steps) container.register(tokens.Admission, { useValue: s });
    },
  });
  kernel = await createKernel({ memory: true, plugins: { available: [p as Plugin<never>] } });
  return kernel;
}

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (isApiError(e)) return e;
    throw e;
  }
  throw new Error("expected a rejection");
}

const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KubeObject => ({
  metadata: { name, namespace: "default", ...(labels ? { labels } : {}) },
  data,
});

describe("admission steps from plugins", () => {
  test("mutating steps run before validation and on create and update; validating steps can refuse", async () => {
    const seen: string[] = [];
    const k = await withSteps(
      {
        name: "stamp",
        resources: ["configmaps"],
        mutate(req) {
          seen.push(`${req.operation} ${req.namespace}/${req.name}`);
          const meta = (req.object!.metadata ??= {}) as { labels?: Record<string, string> };
          meta.labels = { ...meta.labels, admitted: req.operation.toLowerCase() };
        },
      },
      {
        name: "no-secrets-in-configmaps",
        resources: ["configmaps"],
        validate(req) {
          const data = (req.object?.data ?? {}) as Record<string, string>;
          if ("password" in data) throw errors.forbidden({ resource: "configmaps", group: "", name: req.name }, "passwords belong in Secrets");
        },
      },
    );
    const created = await k.client.create(CM, cm("a", { x: "1" }));
    expect(created.metadata.labels).toEqual({ admitted: "create" });
    const updated = await k.client.patch(CM, "a", "merge", { data: { x: "2" } }, { namespace: "default" });
    expect(updated.metadata.labels).toEqual({ admitted: "update" });
    expect(seen).toEqual(["CREATE default/a", "UPDATE default/a"]);

    const refused = await rejection(k.client.create(CM, cm("b", { password: "hunter2" })));
    expect(refused.code).toBe(403);
    expect(refused.message).toBe('configmaps "b" is forbidden: passwords belong in Secrets');
    expect((await rejection(k.client.get(CM, "b", { namespace: "default" }))).code).toBe(404);
    const refusedUpdate = await rejection(k.client.patch(CM, "a", "merge", { data: { password: "x" } }, { namespace: "default" }));
    expect(refusedUpdate.code).toBe(403);
    expect((await k.client.get(CM, "a", { namespace: "default" })).data).toEqual({ x: "2" });
  });

  test("steps only see the resources they ask for; delete can be refused", async () => {
    const seen: string[] = [];
    const k = await withSteps({
      name: "protect",
      resources: ["configmaps"],
      validate(req) {
        seen.push(`${req.resource} ${req.operation}`);
        const labels = ((req.oldObject?.metadata ?? {}) as { labels?: Record<string, string> }).labels;
        if (req.operation === "DELETE" && labels?.protected === "true") {
          throw errors.forbidden({ resource: "configmaps", group: "", name: req.name }, "it is protected");
        }
      },
    });
    await k.client.create(POD, { metadata: { name: "p", namespace: "default" }, spec: { containers: [{ name: "c", image: "busybox" }] } });
    await k.client.create(CM, cm("keep", {}, { protected: "true" }));
    const refused = await rejection(k.client.delete(CM, "keep", { namespace: "default" }));
    expect(refused.code).toBe(403);
    await k.client.get(CM, "keep", { namespace: "default" });
    expect(seen).toEqual(["configmaps CREATE", "configmaps DELETE"]);
  });

  test("a step that throws something other than an ApiError is a 500 naming it, and nothing is written", async () => {
    const k = await withSteps({
      name: "buggy",
      // Only configmaps: the kernel's own start-up writes (the default RBAC policy) are admitted too.
      resources: ["configmaps"],
      mutate() {
        throw new TypeError("cannot read properties of undefined");
      },
    });
    const e = await rejection(k.client.create(CM, cm("c")));
    expect(e.code).toBe(500);
    expect(e.message).toBe('Internal error occurred: admission step "buggy" failed: cannot read properties of undefined');
    expect((await rejection(k.client.get(CM, "c", { namespace: "default" }))).code).toBe(404);
  });

  test("an update admitted against a version that moved meanwhile is retried, losing nothing", async () => {
    let delayNext = true;
    const k = await withSteps({
      name: "slow",
      resources: ["configmaps"],
      async mutate(req) {
        if (req.operation === "UPDATE" && delayNext) {
          delayNext = false;
          // Another writer changes the object while this update is being admitted.
          await k2.client.patch(CM, "race", "merge", { data: { other: "yes" } }, { namespace: "default" });
        }
      },
    });
    const k2 = k;
    await k.client.create(CM, cm("race", { mine: "0" }));
    const out = await k.client.patch(CM, "race", "merge", { data: { mine: "1" } }, { namespace: "default" });
    expect(out.data).toEqual({ mine: "1", other: "yes" });
  });
});
