/**
 * @module The `kube-dns` Service that gives pods the cluster DNS at a fixed
 * ClusterIP (port 53, UDP and TCP), like k3s and kubeadm. It has no
 * selector: this plugin owns its EndpointSlice, which points at the address
 * and port the DNS server actually listens on (the node's address, any
 * port), so the network proxy DNATs `<clusterIP>:53` there from the host
 * and from every pod on every node.
 *
 * The ClusterIP defaults to the 10th address of the service range, found
 * from the `kubernetes` Service (which holds the 1st), so it follows
 * `--service-cidr` without the kernel telling plugins the range.
 */
import { networkInterfaces } from "node:os";
import { isApiError } from "../../core/api/errors.ts";
import type { KubeObject } from "../../core/api/meta.ts";
import type { Client } from "../../core/client/types.ts";
import type { Logger } from "../../core/log.ts";
import type { HostPort } from "./server.ts";

const SERVICES = { group: "", version: "v1", resource: "services" };
const SLICES = { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" };
const NAMESPACES = { group: "", version: "v1", resource: "namespaces", namespaced: false };
export const MANAGED_BY = "dns.skiff.dev";

export interface DnsServiceConfig {
  enabled: boolean;
  namespace: string;
  name: string;
  /** Fixed ClusterIP; empty = the 10th address of the service range. */
  clusterIP: string;
  /** Where the endpoint points; empty = the listen address, or this host's first non-loopback IPv4 when listening on 0.0.0.0. */
  endpointAddress: string;
}

function ipToInt(s: string): number {
  const p = s.split(".").map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** The 10th address of the range whose 1st is `kubernetesIP`. */
export function tenthAddress(kubernetesIP: string): string {
  return intToIp(ipToInt(kubernetesIP) + 9);
}

/** The first non-internal IPv4 address of this host (the node address). */
export function hostAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

/**
 * Where the endpoint should point, given what the server bound: the
 * configured address (bound itself or through 0.0.0.0), else the first
 * specific non-loopback address, else the host address behind a 0.0.0.0
 * socket. Never loopback: pods cannot be DNATed there, and the API refuses
 * loopback endpoints.
 */
export function endpointFor(bound: readonly HostPort[], configured: string): HostPort | undefined {
  const v4 = bound.filter((b) => !b.host.includes(":"));
  const wildcard = v4.find((b) => b.host === "0.0.0.0");
  if (configured) {
    if (configured.startsWith("127.")) return undefined;
    const b = v4.find((x) => x.host === configured) ?? wildcard;
    return b ? { host: configured, port: b.port } : undefined;
  }
  const specific = v4.find((b) => b.host !== "0.0.0.0" && !b.host.startsWith("127."));
  if (specific) return { ...specific };
  const host = wildcard ? hostAddress() : undefined;
  return wildcard && host ? { host, port: wildcard.port } : undefined;
}

type Obj = KubeObject & Record<string, unknown>;

/**
 * Creates the Service (unless it exists) and writes the EndpointSlice.
 * Returns the ClusterIP. Idempotent; called at every start.
 */
export async function ensureDnsService(client: Client, cfg: DnsServiceConfig, endpoint: HostPort, nodeName: string | undefined, log: Logger): Promise<string | undefined> {
  await client.create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: cfg.namespace } }).catch((e) => {
    if (!isApiError(e, "AlreadyExists")) throw e;
  });
  let svc = await client.get<Obj>(SERVICES, cfg.name, { namespace: cfg.namespace }).catch((e) => {
    if (isApiError(e, "NotFound")) return undefined;
    throw e;
  });
  if (!svc) {
    let ip = cfg.clusterIP;
    if (!ip) {
      const k = await client.get<Obj>(SERVICES, "kubernetes", { namespace: "default" }).catch(() => undefined);
      const first = (k?.spec as { clusterIP?: string } | undefined)?.clusterIP;
      if (first && /^\d+\.\d+\.\d+\.\d+$/.test(first)) ip = tenthAddress(first);
    }
    const spec = {
      type: "ClusterIP",
      ...(ip ? { clusterIP: ip, clusterIPs: [ip] } : {}),
      ports: [
        { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
        { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
      ],
    };
    const obj = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: cfg.name, namespace: cfg.namespace, labels: { "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS", "app.kubernetes.io/managed-by": MANAGED_BY } },
      spec,
    };
    svc = await client.create<Obj>(SERVICES, obj as Obj).catch(async (e) => {
      if (isApiError(e, "AlreadyExists")) return client.get<Obj>(SERVICES, cfg.name, { namespace: cfg.namespace });
      if (ip && !cfg.clusterIP && isApiError(e, "Invalid")) {
        // The 10th address is taken by another Service: take any address (pods learn it from the Service).
        log.warn({ clusterIP: ip, err: (e as Error).message }, "the usual cluster DNS address is taken; allocating another one");
        const { clusterIP: _ip, clusterIPs: _ips, ...rest } = spec as typeof spec & { clusterIP?: string; clusterIPs?: string[] };
        return client.create<Obj>(SERVICES, { ...obj, spec: rest } as unknown as Obj);
      }
      throw e;
    });
  }
  const clusterIP = (svc.spec as { clusterIP?: string } | undefined)?.clusterIP;
  if (cfg.clusterIP && clusterIP !== cfg.clusterIP) {
    log.warn({ service: `${cfg.namespace}/${cfg.name}`, clusterIP, configured: cfg.clusterIP }, "the DNS Service exists with another ClusterIP; keeping it");
  }
  const slice = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: `${cfg.name}-skiff`,
      namespace: cfg.namespace,
      labels: { "kubernetes.io/service-name": cfg.name, "endpointslice.kubernetes.io/managed-by": MANAGED_BY },
    },
    addressType: "IPv4",
    endpoints: [{ addresses: [endpoint.host], conditions: { ready: true, serving: true, terminating: false }, ...(nodeName ? { nodeName } : {}) }],
    ports: [
      { name: "dns", port: endpoint.port, protocol: "UDP" },
      { name: "dns-tcp", port: endpoint.port, protocol: "TCP" },
    ],
  };
  const old = await client.get<Obj>(SLICES, slice.metadata.name, { namespace: cfg.namespace }).catch((e) => {
    if (isApiError(e, "NotFound")) return undefined;
    throw e;
  });
  if (old) await client.update<Obj>(SLICES, { ...slice, metadata: { ...old.metadata, ...slice.metadata } } as unknown as Obj);
  else await client.create<Obj>(SLICES, slice as unknown as Obj);
  return clusterIP;
}

/** The port the EndpointSlice of a previous run points at on `host`, if any. */
export async function publishedPort(client: Client, cfg: DnsServiceConfig, host: string): Promise<number | undefined> {
  const old = await client.get<Obj>(SLICES, `${cfg.name}-skiff`, { namespace: cfg.namespace }).catch(() => undefined);
  const eps = (old?.endpoints ?? []) as { addresses?: string[] }[];
  const ports = (old?.ports ?? []) as { port?: number }[];
  return eps.some((e) => e.addresses?.includes(host)) && ports[0]?.port ? ports[0].port : undefined;
}
