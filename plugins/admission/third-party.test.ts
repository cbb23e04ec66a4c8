/** @module A plugin without Skiff's ApiError refuses with a Status-shaped error; the chain returns that Status (and only refusal reasons). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { isApiError } from "../../core/api/errors.ts";
import { createKernel, type Kernel } from "../../core/kernel.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import requireLabel, { OPT_IN } from "../../examples/plugins/require-label/index.ts";
import { CONFIG_MAPS, NAMESPACES, PODS } from "./common.ts";

const statusError = (reason: string, message: string) => Object.assign(new Error(message), { status: { kind: "Status", apiVersion: "v1", status: "Failure", reason, message } });
const odd: Plugin<never> = {
  manifest: { name: "odd", version: "0.0.1" },
  register(container, _c, tokens) {
    container.register(tokens.Admission, {
      useValue: {
        name: "Odd",
        resources: ["configmaps"],
        validate(req) {
          if (req.name === "invalid") throw statusError("Invalid", 'configmaps "invalid" is invalid: data: Required value');
          if (req.name === "internal") throw statusError("InternalError", "boom");
        },
      },
    });
  },
};

const seenOps: string[] = [];
const deletesOnly: Plugin<never> = {
  manifest: { name: "deletes-only", version: "0.0.1" },
  register(container, _c, tokens) {
    container.register(tokens.Admission, { useValue: { name: "DeletesOnly", resources: ["configmaps"], operations: ["DELETE"], validate: (req) => void seenOps.push(`${req.operation} ${req.name}`) } });
  },
};

let kernel: Kernel;
beforeAll(async () => {
  kernel = await createKernel({ memory: true, plugins: { available: [requireLabel as Plugin<never>, odd, deletesOnly], preset: "server" } });
});
afterAll(() => kernel.stop());

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isApiError(e)) return `${e.code} ${e.reason} ${e.message}`;
    throw e;
  }
  return "admitted";
}

test("the example plugin refuses unlabelled pods only in namespaces that opt in", async () => {
  await kernel.client.create(NAMESPACES, { metadata: { name: "strict", labels: { [OPT_IN]: "true" } } });
  const pod = (name: string, ns: string, labels?: Record<string, string>) => ({ metadata: { name, namespace: ns, ...(labels ? { labels } : {}) }, spec: { containers: [{ name: "c", image: "i" }] } });
  expect(await refusal(kernel.client.create(PODS, pod("a", "strict")))).toBe('403 Forbidden pods "a" is forbidden: missing required label "team"');
  await kernel.client.create(PODS, pod("b", "strict", { team: "x" }));
  await kernel.client.create(PODS, pod("c", "default"));
  // Updates are checked too: the label cannot be dropped.
  expect(await refusal(kernel.client.patch(PODS, "b", "json", [{ op: "remove", path: "/metadata/labels/team" }], { namespace: "strict" }))).toBe(
    '403 Forbidden pods "b" is forbidden: missing required label "team"',
  );
});

test("Status-shaped refusals keep their reason; a non-refusal reason is the step's failure", async () => {
  expect(await refusal(kernel.client.create(CONFIG_MAPS, { metadata: { name: "invalid", namespace: "default" } }))).toBe('422 Invalid configmaps "invalid" is invalid: data: Required value');
  expect(await refusal(kernel.client.create(CONFIG_MAPS, { metadata: { name: "internal", namespace: "default" } }))).toBe(
    '500 InternalError Internal error occurred: admission step "Odd" failed: boom',
  );
});

test("a step sees only the operations it names", async () => {
  await kernel.client.create(CONFIG_MAPS, { metadata: { name: "ops", namespace: "default" } });
  await kernel.client.patch(CONFIG_MAPS, "ops", "merge", { data: { a: "b" } }, { namespace: "default" });
  await kernel.client.delete(CONFIG_MAPS, "ops", { namespace: "default" });
  expect(seenOps).toEqual(["DELETE ops"]);
});
