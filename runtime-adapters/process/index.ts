/**
 * @module The process runtime plugin (`runtime-process`), the embedded
 * default: containers are host processes (see README.md). It registers a
 * ProcessRuntime as the `process` RuntimeAdapter, keeping its state under
 * `<data dir>/runtime/process` (a temporary directory when the kernel has no
 * data dir).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Plugin } from "../../core/plugin/types.ts";
import { ProcessRuntime } from "./process-runtime.ts";

export { ProcessRuntime, type ProcessRuntimeOptions } from "./process-runtime.ts";
export { parseSubnet, PodNetwork } from "./network.ts";

export const NAME = "runtime-process";

export interface ProcessRuntimeConfig {
  /** `auto`: a network namespace and IP per pod when root; `host`: pods share the host's network. */
  network: "auto" | "host";
  bridge: string;
  subnet: string;
  netnsPrefix: string;
  vethPrefix: string;
  /** Parent cgroup of containers; empty string disables cgroups. */
  cgroupParent: string;
  /** Private mount and UTS namespaces per container when root (volumes, hostname). */
  isolation: boolean;
  /** State directory; default `<data dir>/runtime/process`. */
  stateDir?: string;
}

/**
 * A fresh process runtime plugin (each kernel gets its own). Without a data
 * dir its state is temporary: at stop it removes every pod it still runs,
 * its bridge if it created it, and the state directory.
 */
export function processRuntimePlugin(): Plugin<ProcessRuntimeConfig> {
  let runtime: ProcessRuntime | undefined;
  let temporary: string | undefined;
  return {
  manifest: {
    name: NAME,
    version: "0.1.0",
    description: "Containers as host processes, a network namespace per pod when root (the embedded default)",
    roles: ["agent"],
    provides: ["runtime", "runtime:process"],
    configSchema: {
      type: "object",
      additionalProperties: false,
      properties: {
        network: { enum: ["auto", "host"], default: "auto" },
        bridge: { type: "string", pattern: "^[a-zA-Z0-9_.-]{1,15}$", default: "skiff0" },
        subnet: { type: "string", pattern: "^\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+$", default: "10.88.0.0/16" },
        netnsPrefix: { type: "string", pattern: "^[a-zA-Z0-9_.-]{1,32}$", default: "skiff-" },
        vethPrefix: { type: "string", pattern: "^[a-zA-Z0-9_.-]{1,7}$", default: "skv" },
        cgroupParent: { type: "string", pattern: "^[a-zA-Z0-9_.-]*$", default: "skiff" },
        isolation: { type: "boolean", default: true },
        stateDir: { type: "string" },
      },
    },
  },
  register(container, config, tokens) {
    const dataDir = container.isRegistered(tokens.DataDir, true) ? container.resolve(tokens.DataDir) : undefined;
    temporary = config.stateDir || dataDir ? undefined : mkdtempSync(join(tmpdir(), "skiff-process-runtime-"));
    const stateDir = config.stateDir ?? (dataDir ? join(dataDir, "runtime", "process") : temporary!);
    runtime = new ProcessRuntime({
      stateDir,
      network: config.network,
      bridge: config.bridge,
      subnet: config.subnet,
      netnsPrefix: config.netnsPrefix,
      vethPrefix: config.vethPrefix,
      cgroupParent: config.cgroupParent === "" ? false : config.cgroupParent,
      isolation: config.isolation,
    });
    container.register(tokens.RuntimeAdapter, { useValue: runtime });
  },
  async stop() {
    if (runtime && temporary) {
      await runtime.removeAll();
      rmSync(temporary, { recursive: true, force: true });
    }
    await runtime?.close();
  },
  };
}
