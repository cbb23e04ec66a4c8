/**
 * @module The node agent plugin (`node-agent`), Skiff's kubelet: registers
 * the node (or the runtime's simulated nodes), renews its Lease, runs the
 * pods bound to it through the RuntimeAdapter named by `--runtime`, reports
 * their status, and serves logs, exec and port-forward on its own endpoint.
 * See README.md.
 */
import { Tokens } from "../../core/plugin/tokens.ts";
import { nodeIdentity } from "../../core/plugin/identity.ts";
import type { Plugin, PluginIdentity, PluginIdentityEnv } from "../../core/plugin/types.ts";
import { NODE_SIMULATOR_USER } from "../../core/server/auth/rbac/bootstrap-policy.ts";
import { DEFAULT_AGENT_CONFIG, NodeAgent, type NodeAgentConfig } from "./agent.ts";
import { ClusterDnsSource, setClusterDnsSource } from "./dns-config.ts";
import { AgentServer } from "./server.ts";

export { NodeAgent, type NodeAgentConfig } from "./agent.ts";
export { AgentServer } from "./server.ts";

export const NAME = "node-agent";

const d = DEFAULT_AGENT_CONFIG;

const configSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    rootDir: { type: "string" },
    maxPods: { type: "integer", minimum: 1, default: d.maxPods },
    workers: { type: "integer", minimum: 1, maximum: 256, default: d.workers },
    leaseDurationSeconds: { type: "integer", minimum: 1, default: d.leaseDurationSeconds },
    nodeStatusUpdateSeconds: { type: "number", exclusiveMinimum: 0, default: d.nodeStatusUpdateSeconds },
    nodeStatusReportSeconds: { type: "number", exclusiveMinimum: 0, default: d.nodeStatusReportSeconds },
    relistSeconds: { type: "number", exclusiveMinimum: 0, default: d.relistSeconds },
    runtimeHealthSeconds: { type: "number", exclusiveMinimum: 0, default: d.runtimeHealthSeconds },
    plegThresholdSeconds: { type: "number", exclusiveMinimum: 0, default: d.plegThresholdSeconds },
    backoff: {
      type: "object",
      additionalProperties: false,
      properties: {
        initialSeconds: { type: "number", exclusiveMinimum: 0, default: d.backoff.initialSeconds },
        maxSeconds: { type: "number", exclusiveMinimum: 0, default: d.backoff.maxSeconds },
      },
      default: {},
    },
    stopPodsOnExit: { enum: ["auto", "always", "never"], default: d.stopPodsOnExit },
    normalEvents: { enum: ["auto", "on", "off"], default: d.normalEvents },
    nodeIP: { type: "string" },
    /** Like the kubelet's: the nameservers of ClusterFirst pods; empty = the kube-dns Service's ClusterIP. */
    clusterDNS: { type: "array", items: { type: "string", pattern: "^\\d+\\.\\d+\\.\\d+\\.\\d+$" }, maxItems: 3, default: [] },
    clusterDomain: { type: "string", minLength: 1, default: "cluster.local" },
    labels: { type: "object", additionalProperties: { type: "string" }, default: {} },
    taints: {
      type: "array",
      items: {
        type: "object",
        required: ["key", "effect"],
        additionalProperties: false,
        properties: { key: { type: "string" }, value: { type: "string" }, effect: { enum: ["NoSchedule", "PreferNoSchedule", "NoExecute"] } },
      },
      default: [],
    },
    containerLogMaxBytes: { type: "integer", minimum: 1024, default: d.containerLogMaxBytes },
    containerLogMaxFiles: { type: "integer", minimum: 1, default: d.containerLogMaxFiles },
    statusConcurrency: { type: "integer", minimum: 1, default: d.statusConcurrency },
    server: {
      type: "object",
      additionalProperties: false,
      properties: {
        enabled: { type: "boolean", default: d.server.enabled },
        address: { type: "string", default: d.server.address },
        port: { type: "integer", minimum: 0, maximum: 65535, default: d.server.port },
        token: { type: "string" },
        /** HTTPS (server.ts): the serving certificate and key, and the cluster CA clients must chain to. The kernel and `skiff agent` set it. */
        tls: {
          type: "object",
          additionalProperties: false,
          required: ["cert", "key", "ca"],
          properties: { cert: { type: "string", minLength: 1 }, key: { type: "string", minLength: 1 }, ca: { type: "string", minLength: 1 } },
        },
      },
      default: {},
    },
  },
};

/** Pod DNS settings (see dns-config.ts). */
export interface AgentDnsConfig {
  clusterDNS: string[];
  clusterDomain: string;
}

/**
 * The kubelet's identity, `system:node:<nodeName>` in `system:nodes`, so the
 * Node authorizer and NodeRestriction treat the in-process agent as a remote
 * one. A runtime simulating many nodes acts for all of them as
 * `system:skiff:node-simulator` (the node rules, unpartitioned).
 */
function agentIdentity(env: PluginIdentityEnv): PluginIdentity | "kernel" {
  const c = env.container;
  const want = c.isRegistered(Tokens.RuntimeName, true) ? c.resolve(Tokens.RuntimeName) : "process";
  const adapters = c.isRegistered(Tokens.RuntimeAdapter, true) ? c.resolveAll(Tokens.RuntimeAdapter) : [];
  if ((adapters.find((a) => a.name === want)?.simulatedNodes?.length ?? 0) > 0) return { user: NODE_SIMULATOR_USER };
  // Without a node name the agent refuses to start anyway.
  return env.nodeName ? nodeIdentity(env.nodeName) : "kernel";
}

/** A fresh node agent plugin (each kernel gets its own instance). */
export function nodeAgentPlugin(): Plugin<NodeAgentConfig & AgentDnsConfig> {
  let agent: NodeAgent | undefined;
  let server: AgentServer | undefined;
  return {
    manifest: {
      name: NAME,
      version: "0.1.0",
      description: "The node agent (kubelet): runs the pods bound to this node through a runtime adapter",
      roles: ["agent"],
      provides: ["node-agent"],
      requires: ["runtime"],
      configSchema,
      identity: agentIdentity,
    },
    async start(ctx) {
      const c = ctx.container;
      const want = c.isRegistered(Tokens.RuntimeName, true) ? c.resolve(Tokens.RuntimeName) : "process";
      const adapters = c.isRegistered(Tokens.RuntimeAdapter, true) ? c.resolveAll(Tokens.RuntimeAdapter) : [];
      const runtime = adapters.find((a) => a.name === want);
      if (!runtime) throw new Error(`no runtime adapter named "${want}" is registered (registered: ${adapters.map((a) => a.name).join(", ") || "none"})`);
      const dataDir = c.isRegistered(Tokens.DataDir, true) ? c.resolve(Tokens.DataDir) : undefined;
      const dnsSource = new ClusterDnsSource({ client: ctx.client, configured: ctx.config.clusterDNS ?? [], domain: ctx.config.clusterDomain ?? "cluster.local" });
      setClusterDnsSource(ctx.client, dnsSource);
      await dnsSource.refresh();
      agent = new NodeAgent(ctx, runtime, { ...(dataDir ? { dataDir } : {}), ...(ctx.nodeName ? { nodeName: ctx.nodeName } : {}) });
      if (ctx.config.server.enabled) {
        server = new AgentServer(agent, ctx.config.server, ctx.log);
        agent.setPort(await server.start());
      }
      await agent.start();
    },
    async stop() {
      await server?.stop();
      server = undefined;
      await agent?.stop();
      agent = undefined;
    },
  };
}
