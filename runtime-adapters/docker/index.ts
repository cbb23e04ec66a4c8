/**
 * @module The Docker runtime plugin (`runtime-docker`, selected with
 * `--runtime docker`): a DockerRuntime over the Docker Engine API on its
 * unix socket (see README.md). Pods outlive the agent (persistent).
 */
import { logger } from "../../core/log.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import { DockerRuntime } from "./docker-runtime.ts";

export { DockerRuntime, type DockerRuntimeOptions, registryAuthHeader } from "./docker-runtime.ts";
export { Engine, EngineError } from "./engine.ts";

export const NAME = "runtime-docker";

export interface DockerRuntimeConfig {
  /** The Engine API's unix socket. */
  socket: string;
  /** Label value marking what this node's adapter created, on a dockerd others may share. */
  instance: string;
  /** The bridge network pods get their IPs from (created when missing). */
  network: string;
  /** Its subnet, when the adapter creates it. */
  subnet: string;
  /** Its Linux bridge's name, when the adapter creates it. */
  bridge: string;
  /** The sandbox ("pause") image. */
  pauseImage: string;
  /** A docker-save archive holding `pauseImage`, loaded instead of pulling it (offline machines). */
  pauseImageArchive?: string;
  /** Cap on Docker's own copy of each container's log (`max-size` syntax). */
  dockerLogMaxSize: string;
}

/** A fresh Docker runtime plugin (each kernel gets its own). */
export function dockerRuntimePlugin(): Plugin<DockerRuntimeConfig> {
  let runtime: DockerRuntime | undefined;
  return {
    manifest: {
      name: NAME,
      version: "0.1.0",
      description: "Containers in Docker through the Engine API: a pause container per pod on a bridge network, images, exec, stats, events",
      roles: ["agent"],
      provides: ["runtime", "runtime:docker"],
      configSchema: {
        type: "object",
        additionalProperties: false,
        properties: {
          socket: { type: "string", minLength: 1, default: "/var/run/docker.sock" },
          instance: { type: "string", pattern: "^[a-zA-Z0-9_.-]{1,63}$", default: "skiff" },
          network: { type: "string", pattern: "^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$", default: "skiff" },
          subnet: { type: "string", pattern: "^\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+$", default: "10.89.0.0/16" },
          bridge: { type: "string", pattern: "^[a-zA-Z0-9_.-]{1,15}$", default: "skiff-docker0" },
          pauseImage: { type: "string", minLength: 1, default: "registry.k8s.io/pause:3.9" },
          pauseImageArchive: { type: "string", minLength: 1 },
          dockerLogMaxSize: { type: "string", pattern: "^\\d+[kmg]?$", default: "10m" },
        },
      },
    },
    register(container, config, tokens) {
      const log = logger(NAME);
      runtime = new DockerRuntime({
        socketPath: config.socket,
        instance: config.instance,
        network: config.network,
        subnet: config.subnet,
        bridge: config.bridge,
        pauseImage: config.pauseImage,
        ...(config.pauseImageArchive ? { pauseImageArchive: config.pauseImageArchive } : {}),
        dockerLogMaxSize: config.dockerLogMaxSize,
        onError: (what, e) => log.warn({ what, err: (e as Error).message }, "docker runtime error"),
      });
      container.register(tokens.RuntimeAdapter, { useValue: runtime });
    },
    async stop() {
      await runtime?.close();
      runtime = undefined;
    },
  };
}
