/**
 * @module Finding the node agent that runs a pod, for the subresources
 * proxied to it (`pods/log`, `pods/exec`, `pods/portforward`): the pod's
 * node, its `InternalIP` and `status.daemonEndpoints.kubeletEndpoint.Port`
 * (a node on this machine's own addresses is reached over loopback, where
 * the agent endpoint listens by default), and how to connect to it.
 *
 * With security on (`AgentAccess.tls`) that is HTTPS and WSS only, as
 * kube-apiserver with `--kubelet-certificate-authority` and
 * `--kubelet-client-certificate`: the agent's serving certificate must chain
 * to the cluster CA and name the pod's node (`CN=system:node:<node>`;
 * `agentServerIdentity`), and the API server presents its own client
 * certificate (`CN=kube-apiserver-kubelet-client`), which the agent checks.
 * A plain-HTTP agent, or one with another CA or another node's
 * certificate, is not reached (503). Without security (`--insecure`, or a
 * kernel that does not listen) agents are reached over plain HTTP.
 */
import { networkInterfaces } from "node:os";
import { ApiError, errors } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import { agentServerIdentity } from "../auth/node-certificates.ts";
import type { HandlerContext } from "./context.ts";

/** How the API server talks to node agents. */
export interface AgentAccess {
  /** Sent as `Authorization: Bearer` (the agents' `server.token`). */
  token?: string;
  /** With security on: the cluster CA agents' certificates chain to, and the API server's client certificate for them. */
  tls?: () => Promise<{ ca: string; cert: string; key: string }>;
}

/** The TLS options of a connection to an agent (Bun's `tls` init of fetch and WebSocket). */
export interface AgentTls {
  ca: string;
  cert: string;
  key: string;
  rejectUnauthorized: true;
  checkServerIdentity: ReturnType<typeof agentServerIdentity>;
}

export interface AgentEndpoint {
  nodeName: string;
  /** `host:port`, IPv6 hosts bracketed. */
  authority: string;
  /** `https://host:port` (or `http://` without security). */
  origin: string;
  /** `wss://host:port` (or `ws://`). */
  wsOrigin: string;
  /** Headers every request to the agent carries. */
  headers: Record<string, string>;
  /** Present with security on: verify the agent, present the client certificate. */
  tls?: AgentTls;
}

/** The pod as the streaming handlers read it. */
export type PodObject = KubeObject & {
  spec?: {
    nodeName?: string;
    containers?: { name: string }[];
    initContainers?: { name: string }[];
    ephemeralContainers?: { name: string }[];
  };
  status?: {
    phase?: string;
    containerStatuses?: { name: string; state?: Record<string, unknown> }[];
    initContainerStatuses?: { name: string; state?: Record<string, unknown> }[];
    ephemeralContainerStatuses?: { name: string; state?: Record<string, unknown> }[];
  };
};

/** This machine's own addresses. */
function localAddresses(): Set<string> {
  const out = new Set<string>(["127.0.0.1", "::1"]);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return out;
}

/** Reads the pod named by the path (404 when missing). */
export async function readPod(ctx: HandlerContext): Promise<PodObject> {
  return (await ctx.deps.store.get(ctx.type, ctx.namespace, ctx.path.name!)).object as PodObject;
}

/** The agent endpoint of the pod's node: 400 when the pod is not bound, 503 when the node has no endpoint. */
export async function agentEndpoint(ctx: HandlerContext, pod: PodObject, access: AgentAccess = {}): Promise<AgentEndpoint> {
  const name = pod.metadata.name!;
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
  const nodeType = ctx.deps.registry.get("", "v1", "nodes")!;
  let node: KubeObject & { status?: { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } } };
  try {
    node = (await ctx.deps.store.get(nodeType, "", nodeName)).object as typeof node;
  } catch (e) {
    if (e instanceof ApiError && e.reason === "NotFound") throw errors.serviceUnavailable(`node ${nodeName} of pod ${name} is not registered`);
    throw e;
  }
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  const ip = node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
  if (!port || !ip) throw errors.serviceUnavailable(`node ${nodeName} has no agent endpoint`);
  const host = localAddresses().has(ip) ? "127.0.0.1" : ip.includes(":") ? `[${ip}]` : ip;
  const authority = `${host}:${port}`;
  const headers: Record<string, string> = access.token ? { authorization: `Bearer ${access.token}` } : {};
  if (!access.tls) return { nodeName, authority, origin: `http://${authority}`, wsOrigin: `ws://${authority}`, headers };
  const creds = await access.tls();
  const tls: AgentTls = { ...creds, rejectUnauthorized: true, checkServerIdentity: agentServerIdentity(nodeName) };
  return { nodeName, authority, origin: `https://${authority}`, wsOrigin: `wss://${authority}`, headers, tls };
}

/** `fetch` to the agent with its TLS options (Bun's per-request `tls`). */
export function agentFetch(agent: AgentEndpoint, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${agent.origin}${path}`, { ...init, headers: agent.headers, ...(agent.tls ? { tls: agent.tls } : {}) } as RequestInit);
}
