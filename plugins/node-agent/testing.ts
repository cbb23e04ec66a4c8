/**
 * @module Test helpers for the node agent (not exported from index.ts):
 * awaiting an object's state through a watch, and pod manifests.
 */
import type { KubeObject } from "../../core/api/meta.ts";
import type { Client, ResourceRef } from "../../core/client/types.ts";
import type { Pod } from "./types.ts";

/**
 * Resolves with the object once `pred` holds (checked on the current state,
 * then on every watch event); rejects after `timeoutMs` with the last state seen.
 * `pred` sees `undefined` once the object is gone.
 */
export async function until<T extends KubeObject>(
  client: Client,
  ref: ResourceRef,
  name: string,
  namespace: string | undefined,
  pred: (o: T | undefined) => boolean,
  timeoutMs = 10_000,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    let rv: string | undefined;
    try {
      last = await client.get<T>(ref, name, namespace ? { namespace } : {});
      rv = last.metadata.resourceVersion;
    } catch (e) {
      if ((e as { reason?: string }).reason !== "NotFound") throw e;
      last = undefined;
      const list = await client.list(ref, namespace ? { namespace, limit: 1 } : { limit: 1 });
      rv = list.metadata.resourceVersion;
    }
    if (pred(last)) return last;
    const w = client.watch<T>(ref, { ...(namespace ? { namespace } : {}), fieldSelector: `metadata.name=${name}`, ...(rv ? { resourceVersion: rv } : {}), timeoutSeconds: 30 });
    const timer = setTimeout(() => w.close(), Math.max(0, deadline - Date.now()));
    try {
      for await (const e of w) {
        if (e.type === "BOOKMARK") continue;
        last = e.type === "DELETED" ? undefined : e.object;
        if (pred(last)) return last;
      }
    } finally {
      clearTimeout(timer);
      w.close();
    }
  }
  throw new Error(`timed out waiting for ${ref.resource}/${name}; last seen: ${JSON.stringify(last?.status ?? last ?? null).slice(0, 1500)}`);
}

export const podsRef: ResourceRef = { group: "", version: "v1", resource: "pods" };

/** A pod bound to `node` (no scheduler needed). */
export function boundPod(name: string, node: string, spec: Partial<Pod["spec"]> = {}, annotations: Record<string, string> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", annotations },
    spec: { nodeName: node, containers: [{ name: "c", image: "busybox:1.36" }], ...spec },
  };
}

export function phase(p: Pod | undefined): string | undefined {
  return p?.status?.phase;
}

export function statusOf(p: Pod | undefined, container = "c") {
  return [...(p?.status?.containerStatuses ?? []), ...(p?.status?.initContainerStatuses ?? [])].find((s) => s.name === container);
}

export function condition(p: Pod | undefined, type: string): string | undefined {
  return p?.status?.conditions?.find((c) => c.type === type)?.status;
}

/** The CA an HTTPS agent endpoint's certificate chains to, and a client certificate it accepts (the admin's, or the API server's). */
export interface AgentClientTls {
  ca: string;
  cert?: string;
  key?: string;
  /** Replaces the host name check (a remote agent's certificate names its node, not the loopback address a test dials). */
  checkServerIdentity?: (host: string, cert: { subject?: { CN?: string | string[] } }) => Error | undefined;
}

/** A WebSocket to the agent endpoint; with `tls`, Bun's `tls` init (CA, client certificate). */
function dial(url: string, protocol: string, tls?: AgentClientTls): WebSocket {
  if (!tls) return new WebSocket(url, [protocol]);
  const Ctor = WebSocket as unknown as new (url: string, init: unknown) => WebSocket;
  return new Ctor(url, { protocols: [protocol], tls });
}

/** `fetch` to the agent endpoint, with `tls` when it is HTTPS. */
export function agentFetch(url: string, tls?: AgentClientTls, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, ...(tls ? { tls } : {}) } as RequestInit);
}

/** Runs a command through the agent endpoint's exec WebSocket (v5.channel.k8s.io); stdout, stderr and the exit code. */
export function agentExec(
  base: string,
  ns: string,
  pod: string,
  container: string,
  command: string[],
  stdin?: string,
  tls?: AgentClientTls,
): Promise<{ stdout: string; stderr: string; code: number; status: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const q = command.map((c) => `command=${encodeURIComponent(c)}`).join("&");
    const ws = dial(`${base.replace(/^http/, "ws")}/exec/${ns}/${pod}/${container}?${q}&stdout=1&stderr=1${stdin !== undefined ? "&stdin=1" : ""}`, "v5.channel.k8s.io", tls);
    ws.binaryType = "arraybuffer";
    let stdout = "";
    let stderr = "";
    let status: Record<string, unknown> = {};
    const dec = new TextDecoder();
    ws.onopen = () => {
      if (stdin === undefined) return;
      const data = new TextEncoder().encode(stdin);
      ws.send(new Uint8Array([0, ...data]));
      ws.send(new Uint8Array([255, 0]));
    };
    ws.onmessage = (m) => {
      const b = new Uint8Array(m.data as ArrayBuffer);
      const text = dec.decode(b.subarray(1));
      if (b[0] === 1) stdout += text;
      else if (b[0] === 2) stderr += text;
      else if (b[0] === 3) status = JSON.parse(text) as Record<string, unknown>;
    };
    ws.onclose = () => {
      const causes = ((status.details as { causes?: { reason: string; message: string }[] } | undefined)?.causes ?? []).find((c) => c.reason === "ExitCode");
      resolve({ stdout, stderr, code: status.status === "Success" ? 0 : causes ? Number(causes.message) : -1, status });
    };
    ws.onerror = () => reject(new Error("exec WebSocket failed"));
  });
}

/** Sends `request` through the agent endpoint's port-forward WebSocket to `port` of the pod; resolves with what came back until the pod closed it. */
export function agentPortForward(base: string, ns: string, pod: string, port: number, request: string, timeoutMs = 5000, tls?: AgentClientTls): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = dial(`${base.replace(/^http/, "ws")}/portForward/${ns}/${pod}?ports=${port}`, "v4.channel.k8s.io", tls);
    ws.binaryType = "arraybuffer";
    let got = "";
    let prefixes = 0;
    const timer = setTimeout(() => ws.close(), timeoutMs);
    ws.onmessage = (m) => {
      const b = new Uint8Array(m.data as ArrayBuffer);
      if (prefixes < 2) {
        prefixes++; // the port number, once per channel
        if (prefixes === 2) ws.send(new Uint8Array([0, ...new TextEncoder().encode(request)]));
        return;
      }
      if (b[0] === 0) got += new TextDecoder().decode(b.subarray(1));
      if (b[0] === 1 && b.length > 1) {
        clearTimeout(timer);
        reject(new Error(new TextDecoder().decode(b.subarray(1))));
        ws.close();
      }
    };
    ws.onclose = () => {
      clearTimeout(timer);
      resolve(got);
    };
    ws.onerror = () => reject(new Error("port-forward WebSocket failed"));
  });
}
