/**
 * @module From Services and EndpointSlices to what the data path must do:
 * one `ServicePort` per (service, port) with the ready endpoints for
 * in-cluster traffic (ClusterIP, honouring `internalTrafficPolicy`) and for
 * external traffic (NodePort, honouring `externalTrafficPolicy`). Pure: the
 * nftables renderer (rules.ts) turns this into a ruleset.
 */

export interface ServicePortSpec {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface Service {
  metadata: { name?: string; namespace?: string; uid?: string };
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalIPs?: string[];
    ports?: ServicePortSpec[];
    sessionAffinity?: string;
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalTrafficPolicy?: string;
    internalTrafficPolicy?: string;
  };
}

export interface EndpointSlice {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  addressType?: string;
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null }; nodeName?: string }[];
  ports?: { name?: string | null; port?: number | null; protocol?: string | null }[] | null;
}

export type Protocol = "tcp" | "udp" | "sctp";

export interface Endpoint {
  ip: string;
  port: number;
  /** On this node (for the `Local` traffic policies). */
  local: boolean;
}

export interface ServicePort {
  /** `<namespace>/<name>:<port name or number>/<protocol>`: stable, for names and logs. */
  key: string;
  namespace: string;
  name: string;
  protocol: Protocol;
  port: number;
  clusterIPs: string[];
  externalIPs: string[];
  nodePort?: number;
  /** ClientIP affinity timeout in seconds, or undefined (no affinity). */
  affinitySeconds?: number;
  /** Endpoints for traffic to the ClusterIP (all ready ones, or only local ones when internalTrafficPolicy is Local). */
  clusterEndpoints: Endpoint[];
  /** Endpoints for NodePort/external traffic (only local ones when externalTrafficPolicy is Local). */
  externalEndpoints: Endpoint[];
  /** externalTrafficPolicy Local: keep the client's source address (no masquerade). */
  externalLocal: boolean;
}

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIPv4(s: string | undefined): s is string {
  const m = s ? IPV4.exec(s) : null;
  return !!m && m.slice(1).every((p) => Number(p) <= 255);
}

function protocolOf(p: string | null | undefined): Protocol | undefined {
  const v = (p ?? "TCP").toLowerCase();
  return v === "tcp" || v === "udp" || v === "sctp" ? v : undefined;
}

/** Default kube-proxy ClientIP affinity timeout (3 hours). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

/**
 * The service ports this proxy programs. Services without a ClusterIP
 * (headless, ExternalName) and non-IPv4 addresses are left out. An endpoint
 * is used when `conditions.ready` is not false (a missing condition means
 * ready, as in the API); the slice port is matched to the service port by
 * name (both empty for a single unnamed port) and protocol.
 */
export function servicePorts(input: { services: readonly Service[]; slices: readonly EndpointSlice[]; nodeName: string }): ServicePort[] {
  const slicesBySvc = new Map<string, EndpointSlice[]>();
  for (const s of input.slices) {
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svc || (s.addressType ?? "IPv4") !== "IPv4") continue;
    const k = `${s.metadata.namespace ?? ""}/${svc}`;
    let list = slicesBySvc.get(k);
    if (!list) slicesBySvc.set(k, (list = []));
    list.push(s);
  }
  const out: ServicePort[] = [];
  for (const svc of input.services) {
    const spec = svc.spec ?? {};
    const ns = svc.metadata.namespace ?? "";
    const name = svc.metadata.name ?? "";
    if (spec.type === "ExternalName") continue;
    const clusterIPs = (spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP]).filter(isIPv4);
    if (clusterIPs.length === 0) continue;
    const slices = slicesBySvc.get(`${ns}/${name}`) ?? [];
    const affinitySeconds =
      spec.sessionAffinity === "ClientIP" ? Math.max(1, spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : undefined;
    const nodePorts = spec.type === "NodePort" || spec.type === "LoadBalancer";
    for (const p of spec.ports ?? []) {
      const protocol = protocolOf(p.protocol);
      if (!protocol || !p.port) continue;
      const seen = new Set<string>();
      const all: Endpoint[] = [];
      for (const s of slices) {
        const sp = (s.ports ?? []).find((x) => (x.name ?? "") === (p.name ?? "") && protocolOf(x.protocol) === protocol);
        if (!sp?.port) continue;
        for (const e of s.endpoints ?? []) {
          if (e.conditions?.ready === false) continue;
          for (const ip of (e.addresses ?? []).slice(0, 1)) {
            if (!isIPv4(ip) || seen.has(`${ip}:${sp.port}`)) continue;
            seen.add(`${ip}:${sp.port}`);
            all.push({ ip, port: sp.port, local: e.nodeName === input.nodeName });
          }
        }
      }
      all.sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
      const local = all.filter((e) => e.local);
      const externalLocal = spec.externalTrafficPolicy === "Local";
      out.push({
        key: `${ns}/${name}:${p.name || p.port}/${protocol}`,
        namespace: ns,
        name,
        protocol,
        port: p.port,
        clusterIPs,
        externalIPs: (spec.externalIPs ?? []).filter(isIPv4),
        ...(nodePorts && p.nodePort ? { nodePort: p.nodePort } : {}),
        ...(affinitySeconds !== undefined ? { affinitySeconds } : {}),
        clusterEndpoints: spec.internalTrafficPolicy === "Local" ? local : all,
        externalEndpoints: externalLocal ? local : all,
        externalLocal,
      });
    }
  }
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}
