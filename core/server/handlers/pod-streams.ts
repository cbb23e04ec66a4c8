/**
 * @module `pods/exec`, `pods/attach` and `pods/portforward`: the streaming
 * subresources, served by the node agent and reached through the API server.
 *
 * - exec: the client's WebSocket (`v5.channel.k8s.io` or `v4.channel.k8s.io`)
 *   is relayed frame for frame to the agent's `/exec/…` WebSocket with the
 *   same subprotocol. The agent is dialed before the client's upgrade is
 *   accepted, so a failure to reach it is an HTTP Status, not a dead socket.
 * - portforward: kubectl's SPDY/3.1 tunneled in a WebSocket
 *   (`SPDY/3.1+portforward.k8s.io`) is terminated here (`port-forward.ts`);
 *   each forwarded connection is one agent `/portForward/…` WebSocket
 *   (`v4.channel.k8s.io`). A client that speaks the channel protocol itself
 *   (`v4.channel.k8s.io` with `?ports=`, as @kubernetes/client-node does) is
 *   relayed like exec.
 * - attach: not supported (400).
 *
 * Plain SPDY upgrades (kubectl's fallback when WebSocket is refused) cannot
 * be taken over by a fetch handler, so they get a 400 Status naming the
 * WebSocket protocols. All of this needs the API server on Bun (see
 * `websocket.ts`); elsewhere the answer is a 400 Status saying so.
 */
import { errors } from "../../api/errors.ts";
import { logger } from "../../log.ts";
import { type PortConnection, PortForwardSession, type PortSink } from "../port-forward.ts";
import { acceptWebSocket, canAccept, type ClientSocket, dialWebSocket, isWebSocketRequest, offeredProtocols } from "../websocket.ts";
import { type AgentAccess, type AgentEndpoint, agentEndpoint, type PodObject, readPod } from "./agent-endpoint.ts";
import type { HandlerContext } from "./context.ts";

export const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
export const SPDY_TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io";
export const CHANNEL_PORT_FORWARD_PROTOCOL = "v4.channel.k8s.io";
const DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container";

const log = logger("pod-streams");

function bool(v: string | null): boolean {
  return v === "1" || v === "true";
}

/** The container named by the query, else the default-container annotation's, else the first (400 when there is none or it is unknown). */
export function execContainer(pod: PodObject, asked: string | null): string {
  const name = pod.metadata.name!;
  const spec = pod.spec ?? {};
  const all = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])].map((c) => c.name);
  if (asked) {
    if (!all.includes(asked)) throw errors.badRequest(`container ${asked} is not valid for pod ${name}`);
    return asked;
  }
  const annotated = pod.metadata.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (annotated && all.includes(annotated)) return annotated;
  const first = spec.containers?.[0]?.name;
  if (!first) throw errors.badRequest(`a container name must be specified for pod ${name}`);
  return first;
}

function requireRunningContainer(pod: PodObject, container: string): void {
  const name = pod.metadata.name!;
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") {
    throw errors.badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  }
  const st = pod.status;
  const status = [...(st?.containerStatuses ?? []), ...(st?.initContainerStatuses ?? []), ...(st?.ephemeralContainerStatuses ?? [])].find((c) => c.name === container);
  if (!status?.state?.running) throw errors.badRequest(`container ${container} in pod ${name} is not running`);
}

/** Checks the request is a WebSocket upgrade this runtime can take, offering one of `supported`; returns the one picked. */
function pickProtocol(ctx: HandlerContext, what: string, supported: string[]): string {
  const req = ctx.req;
  if (!isWebSocketRequest(req)) {
    if ((req.headers.get("upgrade") ?? "").toUpperCase().startsWith("SPDY/")) {
      throw errors.badRequest(`${what} over a SPDY upgrade is not supported; use a WebSocket with one of the subprotocols ${supported.join(", ")}`);
    }
    throw errors.badRequest(`Upgrade request required: ${what} needs a WebSocket with one of the subprotocols ${supported.join(", ")}`);
  }
  const offered = offeredProtocols(req);
  const protocol = supported.find((p) => offered.includes(p));
  if (!protocol) {
    throw errors.badRequest(`none of the offered subprotocols (${offered.join(", ") || "none"}) is supported for ${what}; use one of ${supported.join(", ")}`);
  }
  if (!canAccept(ctx.env)) {
    throw errors.badRequest(`${what} needs WebSocket upgrades, which the API server accepts only when it runs on Bun`);
  }
  return protocol;
}

async function dialAgent(agent: AgentEndpoint, path: string, protocol: string): Promise<ClientSocket> {
  try {
    return await dialWebSocket(`${agent.wsOrigin}${path}`, { protocol, headers: agent.headers, ...(agent.tls ? { tls: agent.tls } : {}) });
  } catch (e) {
    throw errors.serviceUnavailable(`error dialing the agent of node ${agent.nodeName}: ${(e as Error).message}`);
  }
}

/** A close code that may be sent (1005/1006/1015 are reserved for "none received"). */
function sendableCode(code: number): number {
  return code === 1000 || (code >= 3000 && code <= 4999) || (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ? code : 1011;
}

/** Relays binary messages between the client's socket and the agent's, unchanged, until either closes. */
function relay(ctx: HandlerContext, protocol: string, agentWs: ClientSocket): Response {
  let clientClosed = false;
  try {
    return acceptWebSocket(ctx.req, ctx.env, protocol, {
      open: (client) => {
        agentWs.listen({
          message: (d) => {
            if (!clientClosed) client.send(d);
          },
          close: (code, reason) => {
            if (clientClosed) return;
            clientClosed = true;
            client.close(sendableCode(code), reason);
          },
        });
      },
      message: (d) => agentWs.send(d),
      close: () => {
        clientClosed = true;
        agentWs.close(1000);
      },
    });
  } catch (e) {
    agentWs.close(1011);
    throw e;
  }
}

/** GET|POST pods/NAME/exec. */
export async function podExec(ctx: HandlerContext, access: AgentAccess = {}): Promise<Response> {
  const pod = await readPod(ctx);
  const command = ctx.query.getAll("command");
  if (command.length === 0) throw errors.badRequest("you must specify at least 1 command");
  const container = execContainer(pod, ctx.query.get("container"));
  const tty = bool(ctx.query.get("tty"));
  // PodExecOptions defaults: stdout and stderr on, stdin off.
  const flag = (k: string, dflt: boolean) => (ctx.query.has(k) ? bool(ctx.query.get(k)) : dflt);
  const io = { stdin: flag("stdin", false), stdout: flag("stdout", true), stderr: flag("stderr", true) };
  if (!io.stdin && !io.stdout && !io.stderr) throw errors.badRequest("you must specify at least 1 of stdin, stdout, stderr");
  if (tty && io.stderr) io.stderr = false; // with a TTY stderr is merged into stdout, as the kubelet does
  const agent = await agentEndpoint(ctx, pod, access);
  requireRunningContainer(pod, container);
  const protocol = pickProtocol(ctx, "exec", EXEC_PROTOCOLS);
  const q = new URLSearchParams();
  for (const c of command) q.append("command", c);
  for (const [k, v] of Object.entries(io)) if (v) q.set(k, "1");
  if (tty) q.set("tty", "1");
  const path = `/exec/${encodeURIComponent(ctx.namespace)}/${encodeURIComponent(pod.metadata.name!)}/${encodeURIComponent(container)}?${q}`;
  return relay(ctx, protocol, await dialAgent(agent, path, protocol));
}

/** GET|POST pods/NAME/attach. */
export async function podAttach(ctx: HandlerContext): Promise<Response> {
  await readPod(ctx);
  throw errors.badRequest("attach is not supported");
}

function parsePorts(ctx: HandlerContext): number[] {
  const raw = [...ctx.query.getAll("ports"), ...ctx.query.getAll("port")].flatMap((p) => p.split(",")).filter(Boolean);
  const ports = raw.map(Number);
  const bad = raw.find((_, i) => !Number.isInteger(ports[i]) || ports[i]! < 1 || ports[i]! > 65535);
  if (bad !== undefined) throw errors.badRequest(`invalid port ${JSON.stringify(bad)}: must be a number from 1 to 65535`);
  return ports;
}

/** GET|POST pods/NAME/portforward. */
export async function podPortForward(ctx: HandlerContext, access: AgentAccess = {}): Promise<Response> {
  const pod = await readPod(ctx);
  const name = pod.metadata.name!;
  const ports = parsePorts(ctx);
  const agent = await agentEndpoint(ctx, pod, access);
  if (pod.status?.phase !== "Running") {
    throw errors.badRequest(`unable to forward port because pod is not running. Current status=${pod.status?.phase ?? "Unknown"}`);
  }
  const protocol = pickProtocol(ctx, "port-forward", [SPDY_TUNNEL_PROTOCOL, CHANNEL_PORT_FORWARD_PROTOCOL]);
  const base = `/portForward/${encodeURIComponent(ctx.namespace)}/${encodeURIComponent(name)}`;
  if (protocol === CHANNEL_PORT_FORWARD_PROTOCOL) {
    if (ports.length === 0) throw errors.badRequest("the ports query parameter is required for the v4.channel.k8s.io protocol");
    return relay(ctx, protocol, await dialAgent(agent, `${base}?ports=${ports.join(",")}`, protocol));
  }
  let session: PortForwardSession | undefined;
  return acceptWebSocket(ctx.req, ctx.env, protocol, {
    open: (client) => {
      session = new PortForwardSession({
        send: (b) => client.send(b),
        close: () => client.close(1000),
        dial: (port, sink) => dialPort(agent, `${base}?ports=${port}`, { port, pod: name }, sink),
        onError: (message) => log.debug({ pod: `${ctx.namespace}/${name}`, err: message }, "port-forward"),
      });
    },
    message: (d) => session?.receive(d),
    close: () => session?.end(),
  });
}

/**
 * One pod connection through the agent's channel protocol: data on channel
 * 0, errors on channel 1; each channel starts with the port (2 bytes), which
 * is dropped.
 */
function dialPort(agent: AgentEndpoint, path: string, what: { port: number; pod: string }, sink: PortSink): PortConnection {
  let ws: ClientSocket | undefined;
  let queue: Uint8Array[] = [];
  let closed = false;
  let failed = false;
  const skip = [2, 2];
  let errorText = "";
  const frame0 = (b: Uint8Array) => {
    const f = new Uint8Array(b.length + 1);
    f.set(b, 1);
    return f;
  };
  dialWebSocket(`${agent.wsOrigin}${path}`, { protocol: CHANNEL_PORT_FORWARD_PROTOCOL, headers: agent.headers, ...(agent.tls ? { tls: agent.tls } : {}) }).then(
    (s) => {
      if (closed) return s.close(1000);
      ws = s;
      for (const b of queue) s.send(frame0(b));
      queue = [];
      s.listen({
        message: (m) => {
          const ch = m[0];
          if (ch !== 0 && ch !== 1) return;
          let payload = m.subarray(1);
          const drop = Math.min(skip[ch]!, payload.length);
          skip[ch]! -= drop;
          payload = payload.subarray(drop);
          if (payload.length === 0) return;
          if (ch === 0) sink.data(payload);
          else {
            errorText += new TextDecoder().decode(payload);
            failed = true;
            sink.error(errorText);
            s.close(1000);
          }
        },
        close: () => {
          if (!failed) sink.end();
        },
      });
    },
    (e: Error) => {
      failed = true;
      sink.error(`error forwarding port ${what.port} to pod ${what.pod}: cannot reach the agent of node ${agent.nodeName}: ${e.message}`);
    },
  );
  return {
    write: (b) => {
      if (closed) return;
      if (ws) ws.send(frame0(b));
      else queue.push(b.slice());
    },
    close: () => {
      closed = true;
      ws?.close(1000);
    },
  };
}
