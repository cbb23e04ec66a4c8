/**
 * @module The fake runtime plugin (`runtime-fake`): registers a FakeRuntime
 * as the `fake` RuntimeAdapter. With `nodes: N` it simulates N nodes in this
 * process (the node agent registers and heartbeats each of them), like KWOK.
 */
import type { Plugin } from "../../core/plugin/types.ts";
import { FakeRuntime, fakeNodes } from "./fake-runtime.ts";

export { BEHAVIOR_ANNOTATION, type FakeBehavior, type FakeDelays, FakeRuntime, type FakeRuntimeOptions, FakeWorld, FAKE_CAPABILITIES, fakeNodes } from "./fake-runtime.ts";

export const NAME = "runtime-fake";

export interface FakeRuntimeConfig {
  /** Simulated nodes; 0 = the agent's own node only. */
  nodes: number;
  /** Simulated nodes are named `<nodePrefix><i>`. */
  nodePrefix: string;
  /** Capacity of each simulated node. */
  capacity: Record<string, string>;
  /** Milliseconds each step takes. */
  delays: { sandboxMs: number; startMs: number; stopMs: number };
  /** Write CRI log files for what fake containers print. */
  writeLogs: boolean;
}

/** A fresh fake runtime plugin (each kernel gets its own). */
export function fakeRuntimePlugin(): Plugin<FakeRuntimeConfig> {
  let runtime: FakeRuntime | undefined;
  return {
  manifest: {
    name: NAME,
    version: "0.1.0",
    description: "Simulated pods and nodes for scale tests (no processes)",
    roles: ["agent"],
    provides: ["runtime", "runtime:fake"],
    configSchema: {
      type: "object",
      additionalProperties: false,
      properties: {
        nodes: { type: "integer", minimum: 0, maximum: 100000, default: 0 },
        nodePrefix: { type: "string", pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9.-])?$", default: "fake-node-" },
        capacity: {
          type: "object",
          additionalProperties: { type: "string" },
          default: { cpu: "32", memory: "256Gi", pods: "110", "ephemeral-storage": "1Ti" },
        },
        delays: {
          type: "object",
          additionalProperties: false,
          properties: {
            sandboxMs: { type: "integer", minimum: 0, default: 0 },
            startMs: { type: "integer", minimum: 0, default: 0 },
            stopMs: { type: "integer", minimum: 0, default: 0 },
          },
          default: {},
        },
        writeLogs: { type: "boolean", default: true },
      },
    },
  },
  register(container, config, tokens) {
    const nodes = config.nodes > 0 ? fakeNodes(config.nodes, { prefix: config.nodePrefix, capacity: config.capacity }) : [];
    runtime = new FakeRuntime({ nodes, delays: config.delays, writeLogs: config.writeLogs });
    container.register(tokens.RuntimeAdapter, { useValue: runtime });
  },
  async stop() {
    await runtime?.close();
  },
  };
}
