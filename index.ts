/**
 * @module The `skiff` package: embed a kernel, write plugins.
 *
 * ```ts
 * import { createKernel } from "skiff";
 * const kernel = await createKernel({ memory: true, plugins: { preset: "server" } });
 * const pods = await kernel.client.list({ group: "", version: "v1", resource: "pods" });
 * await kernel.stop();
 * ```
 *
 * `createKernel` here offers the built-in plugins (scheduler, controllers …)
 * by default; `core/kernel.ts` is the same function without a catalog.
 */
import { createKernel as createBareKernel, type Kernel, type KernelOptions } from "./core/kernel.ts";
import { builtinPlugins } from "./plugins/index.ts";

export type { Kernel, KernelOptions, KernelPluginOptions } from "./core/kernel.ts";
export { kubeconfig, selectPlugins } from "./core/kernel.ts";
export { builtinPlugins } from "./plugins/index.ts";
export * from "./core/plugin/index.ts";
export * from "./core/client/index.ts";
export { ApiError, errors, isApiError, type Status, type StatusReason } from "./core/api/errors.ts";
export type { KubeObject, ObjectMeta, OwnerReference } from "./core/api/meta.ts";
export type { ResourceTypeInit } from "./core/api/registry.ts";

/** Starts a kernel with the built-in plugins available (the preset picks which run). */
export function createKernel(opts: KernelOptions): Promise<Kernel> {
  return createBareKernel({ ...opts, plugins: { available: builtinPlugins(), ...opts.plugins } });
}
