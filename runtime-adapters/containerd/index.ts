/**
 * @module The containerd runtime plugin (`runtime-containerd`, selected with
 * `--runtime containerd`): a ContainerdRuntime over CRI on containerd's
 * socket (see README.md).
 */
import type { Plugin } from "../../core/plugin/types.ts";
import { ContainerdRuntime } from "./containerd-runtime.ts";

export { ContainerdRuntime, type ContainerdRuntimeOptions, cpuShares, OWNER_LABEL } from "./containerd-runtime.ts";

export const NAME = "runtime-containerd";

export interface ContainerdRuntimeConfig {
  /** containerd's gRPC socket. */
  socket: string;
  /** The `ctr` binary (image import, exec with stdin or a TTY). */
  ctr: string;
  /** Parent cgroup of pods (cgroupfs syntax); empty: containerd's default. */
  cgroupParent: string;
  /** Owner label value: this node's sandboxes on a containerd that other CRI clients share. */
  owner: string;
}

/** A fresh containerd runtime plugin (each kernel gets its own). Pods outlive it (persistent). */
export function containerdRuntimePlugin(): Plugin<ContainerdRuntimeConfig> {
  let runtime: ContainerdRuntime | undefined;
  return {
    manifest: {
      name: NAME,
      version: "0.1.0",
      description: "Containers in containerd through its CRI (runtime.v1) API: CNI pod networking, images, exec, stats",
      roles: ["agent"],
      provides: ["runtime", "runtime:containerd"],
      configSchema: {
        type: "object",
        additionalProperties: false,
        properties: {
          socket: { type: "string", minLength: 1, default: "/run/containerd/containerd.sock" },
          ctr: { type: "string", minLength: 1, default: "ctr" },
          cgroupParent: { type: "string", pattern: "^(/[a-zA-Z0-9_.-]+)*$", default: "" },
          owner: { type: "string", pattern: "^[a-zA-Z0-9_.-]{1,63}$", default: "skiff" },
        },
      },
    },
    register(container, config, tokens) {
      runtime = new ContainerdRuntime({ socket: config.socket, ctr: config.ctr, cgroupParent: config.cgroupParent, owner: config.owner });
      container.register(tokens.RuntimeAdapter, { useValue: runtime });
    },
    async stop() {
      await runtime?.close();
      runtime = undefined;
    },
  };
}
