/**
 * @module Fixtures for the Endpoints and EndpointSlice controller tests:
 * Nodes, Services and pods written through the API with the status a
 * kubelet would report (IP, Ready), and readers for what the controllers
 * wrote. Not exported from the plugins' index.
 */
import type { Client } from "../../../core/client/types.ts";
import { ENDPOINT_SLICES, ENDPOINTS, type EndpointPod, NODES, type Service, SERVICES, ZONE_LABEL } from "../common/endpoints-util.ts";
import { PODS, rfc3339 } from "../common/refs.ts";
import type { EndpointSlice } from "../endpointslice/reconciler.ts";
import type { Endpoints } from "./endpoints-controller.ts";

export async function createNode(client: Client, name: string, zone?: string): Promise<void> {
  await client.create(NODES, { apiVersion: "v1", kind: "Node", metadata: { name, ...(zone ? { labels: { [ZONE_LABEL]: zone } } : {}) } });
}

export async function createService(client: Client, ns: string, name: string, spec: Service["spec"], labels?: Record<string, string>): Promise<Service> {
  return client.create<Service>(SERVICES, { apiVersion: "v1", kind: "Service", metadata: { name, namespace: ns, ...(labels ? { labels } : {}) }, spec });
}

export interface PodOptions {
  labels: Record<string, string>;
  /** Sets status.podIP (and phase Running) when given. */
  ip?: string;
  ready?: boolean;
  nodeName?: string;
  /** Container ports, e.g. `[{ name: "http", containerPort: 8080 }]`. */
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  hostname?: string;
  subdomain?: string;
  finalizers?: string[];
}

/** Creates a pod and, when `ip` is given, reports it Running (Ready or not) through the status subresource. */
export async function createPod(client: Client, ns: string, name: string, o: PodOptions): Promise<EndpointPod> {
  const pod = await client.create<EndpointPod>(PODS, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels: o.labels, ...(o.finalizers ? { finalizers: o.finalizers } : {}) },
    spec: {
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
      containers: [{ name: "c", image: "nginx:1.27", ...(o.ports ? { ports: o.ports } : {}) }],
    },
  });
  if (o.ip === undefined) return pod;
  return setPodStatus(client, pod, { ip: o.ip, ready: o.ready ?? true });
}

export async function setPodStatus(client: Client, pod: EndpointPod, s: { ip: string; ready: boolean; phase?: string }): Promise<EndpointPod> {
  const status = {
    phase: s.phase ?? "Running",
    podIP: s.ip,
    podIPs: [{ ip: s.ip }],
    conditions: [{ type: "Ready", status: s.ready ? "True" : "False", lastTransitionTime: rfc3339(Date.now()) }],
  };
  return client.patch<EndpointPod>(PODS, pod.metadata.name!, "merge", { status }, { namespace: pod.metadata.namespace!, subresource: "status" });
}

export async function getEndpoints(client: Client, ns: string, name: string): Promise<Endpoints | undefined> {
  try {
    return await client.get<Endpoints>(ENDPOINTS, name, { namespace: ns });
  } catch {
    return undefined;
  }
}

/** The slices the EndpointSlice controller manages for a Service, by name. */
export async function listSlices(client: Client, ns: string, service: string): Promise<EndpointSlice[]> {
  const l = await client.list<EndpointSlice>(ENDPOINT_SLICES, {
    namespace: ns,
    labelSelector: `kubernetes.io/service-name=${service},endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io`,
  });
  return l.items.sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
}

/** Every endpoint of the slices, as `ip|ready|serving|terminating`, sorted. */
export function sliceSummary(slices: EndpointSlice[]): string[] {
  return slices
    .flatMap((s) => (s.endpoints ?? []).map((e) => `${e.addresses.join(",")}|${e.conditions?.ready}|${e.conditions?.serving}|${e.conditions?.terminating}`))
    .sort();
}

/** Every address of an Endpoints as `ip:port` (ready) or `ip:port?` (not ready), sorted. */
export function endpointsSummary(ep: Endpoints | undefined): string[] {
  const out: string[] = [];
  for (const s of ep?.subsets ?? []) {
    const ports = (s.ports ?? []).map((p) => `:${p.port}`);
    if (ports.length === 0) ports.push("");
    for (const p of ports) {
      for (const a of s.addresses ?? []) out.push(`${a.ip}${p}`);
      for (const a of s.notReadyAddresses ?? []) out.push(`${a.ip}${p}?`);
    }
  }
  return out.sort();
}
