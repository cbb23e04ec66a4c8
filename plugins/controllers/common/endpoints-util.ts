/**
 * @module What the Endpoints and EndpointSlice controllers share (upstream
 * `staging/src/k8s.io/endpointslice/util` and `pkg/api/v1/pod`): the Service
 * and Pod fields they read, which pods belong in endpoints, named target
 * ports resolved per pod (`FindPort`), the Services a pod change concerns,
 * and the informer wiring both use — Service events queue their key at once,
 * pod events queue it after the batch period, so a burst of pod changes is
 * one sync (upstream `--endpoint-updates-batch-period`).
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import { type LabelSelector, labelSelectorFromSet } from "../../../core/api/selectors.ts";
import { keyOf } from "../../../core/client/keys.ts";
import type { Informer, ResourceRef } from "../../../core/client/types.ts";
import type { Pod } from "./refs.ts";
import type { Queue, Term } from "./runtime.ts";

export const SERVICES: ResourceRef = { group: "", version: "v1", resource: "services" };
export const ENDPOINTS: ResourceRef = { group: "", version: "v1", resource: "endpoints" };
export const ENDPOINT_SLICES: ResourceRef = { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" };
export const NODES: ResourceRef = { group: "", version: "v1", resource: "nodes", namespaced: false };

/** On Endpoints and EndpointSlices of a Service without a cluster IP (v1.IsHeadlessService). */
export const HEADLESS_LABEL = "service.kubernetes.io/headless";
/** Node label whose value becomes an EndpointSlice endpoint's `zone` (v1.LabelTopologyZone). */
export const ZONE_LABEL = "topology.kubernetes.io/zone";

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
  appProtocol?: string;
}

export interface Service extends KubeObject {
  spec?: {
    type?: string;
    selector?: Record<string, string> | null;
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: string[];
    ports?: ServicePort[];
    publishNotReadyAddresses?: boolean;
  };
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

/** The pod fields endpoints are made of. */
export interface EndpointPod extends Pod {
  spec?: Pod["spec"] & {
    hostname?: string;
    subdomain?: string;
    containers?: { name?: string; image?: string; ports?: ContainerPort[] }[];
    initContainers?: { name?: string; restartPolicy?: string; ports?: ContainerPort[] }[];
  };
  status?: Pod["status"] & { podIP?: string; podIPs?: { ip: string }[] };
}

export interface Node extends KubeObject {}

const selectors = new WeakMap<object, LabelSelector | null>();

/**
 * The Service's pod selector, or undefined when it has none: such Services
 * get their endpoints from their owner, not from the controllers (an empty
 * map counts as none, as it does once the API server has stored it).
 */
export function serviceSelector(svc: Service): LabelSelector | undefined {
  let s = selectors.get(svc);
  if (s === undefined) {
    const sel = svc.spec?.selector;
    try {
      s = sel && Object.keys(sel).length > 0 ? labelSelectorFromSet(sel) : null;
    } catch {
      s = null;
    }
    selectors.set(svc, s);
  }
  return s ?? undefined;
}

/** A pod in the Succeeded or Failed phase (its containers will not run again). */
export function isPodTerminal(p: EndpointPod): boolean {
  return p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
}

export function isPodReady(p: EndpointPod): boolean {
  return p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
}

/** `status.podIPs`, or `[status.podIP]` from writers that set only the singular field. */
export function podIPs(p: EndpointPod): string[] {
  const ips = (p.status?.podIPs ?? []).map((x) => x.ip).filter((ip) => typeof ip === "string" && ip !== "");
  if (ips.length > 0) return ips;
  return p.status?.podIP ? [p.status.podIP] : [];
}

export function isIPv6(ip: string): boolean {
  return ip.includes(":");
}

/**
 * Upstream ShouldPodBeInEndpoints: not terminal, has an IP, and — unless
 * `includeTerminating` — not being deleted.
 */
export function shouldPodBeInEndpoints(p: EndpointPod, includeTerminating: boolean): boolean {
  if (isPodTerminal(p)) return false;
  if (podIPs(p).length === 0) return false;
  if (!includeTerminating && p.metadata.deletionTimestamp !== undefined) return false;
  return true;
}

/** A pod's `spec.hostname` is published when its `spec.subdomain` names the Service (headless DNS records). */
export function shouldSetHostname(p: EndpointPod, svc: Service): boolean {
  return !!p.spec?.hostname && p.spec.subdomain === svc.metadata.name && p.metadata.namespace === svc.metadata.namespace;
}

/** A cluster IP is set: not empty, not "None" (helper.IsServiceIPSet). */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP ?? "";
  return ip !== "" && ip !== "None";
}

export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === "None";
}

/**
 * The pod port a Service port targets (upstream podutil.FindPort): a number
 * as is; a name looked up in the pod's containers (and restartable init
 * containers, i.e. sidecars) with the Service port's protocol. Undefined when
 * the pod has no such named port.
 */
export function findPort(p: EndpointPod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === "number") return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? "TCP";
  const sidecars = (p.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always");
  for (const c of [...(p.spec?.containers ?? []), ...sidecars]) {
    for (const port of c.ports ?? []) if (port.name === target && (port.protocol ?? "TCP") === protocol) return port.containerPort;
  }
  return undefined;
}

/** JSON with sorted keys and without `resourceVersion` (of target refs): equal content, equal string. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (k, val) => {
    if (k === "resourceVersion") return undefined;
    if (val && typeof val === "object" && !Array.isArray(val)) {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(val).sort()) out[key] = (val as Record<string, unknown>)[key];
      return out;
    }
    return val;
  });
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ak = Object.keys(a ?? {});
  if (ak.length !== Object.keys(b ?? {}).length) return false;
  return ak.every((k) => (b ?? {})[k] === (a ?? {})[k]);
}

/**
 * Upstream podEndpointsChanged: whether a pod update may change its endpoints
 * (deletion, readiness, IPs; also a move to a terminal phase), and whether it
 * may change which Services select it (labels, hostname/subdomain).
 */
export function podEndpointsChanged(old: EndpointPod, cur: EndpointPod): { podChanged: boolean; labelsChanged: boolean } {
  const labelsChanged =
    !sameLabels(old.metadata.labels, cur.metadata.labels) || old.spec?.hostname !== cur.spec?.hostname || old.spec?.subdomain !== cur.spec?.subdomain;
  const podChanged =
    old.metadata.deletionTimestamp !== cur.metadata.deletionTimestamp ||
    isPodReady(old) !== isPodReady(cur) ||
    isPodTerminal(old) !== isPodTerminal(cur) ||
    podIPs(old).join(",") !== podIPs(cur).join(",") ||
    (old.spec?.nodeName ?? "") !== (cur.spec?.nodeName ?? "");
  return { podChanged, labelsChanged };
}

/** Keys of the Services in `namespace` whose selector matches `labels`. */
export function servicesForLabels(services: Informer<Service>, namespace: string, labels: Record<string, string> | undefined): Set<string> {
  const out = new Set<string>();
  for (const s of services.list(namespace)) if (serviceSelector(s)?.matches(labels ?? {})) out.add(keyOf(s));
  return out;
}

/** Upstream GetServicesToUpdateOnPodChange. */
export function servicesToUpdateOnPodChange(services: Informer<Service>, old: EndpointPod, cur: EndpointPod): Set<string> {
  if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return new Set();
  const { podChanged, labelsChanged } = podEndpointsChanged(old, cur);
  if (!podChanged && !labelsChanged) return new Set();
  const ns = cur.metadata.namespace ?? "";
  const now = servicesForLabels(services, ns, cur.metadata.labels);
  if (!labelsChanged) return now;
  const before = servicesForLabels(services, ns, old.metadata.labels);
  const out = new Set<string>();
  if (podChanged) {
    for (const k of now) out.add(k);
    for (const k of before) out.add(k);
  } else {
    // Only membership changed: the Services the pod joined or left.
    for (const k of now) if (!before.has(k)) out.add(k);
    for (const k of before) if (!now.has(k)) out.add(k);
  }
  return out;
}

/**
 * The triggers both controllers share: Service add/update/delete queue the
 * Service at once; pod add/update/delete queue the Services concerned after
 * `batchMs` (the queue holds one timer per key and the earlier time wins, so
 * every pod change in that window is folded into one sync).
 */
export function wireServicesAndPods(term: Term, opts: { services: Informer<Service>; pods: Informer<EndpointPod>; queue: Queue; batchMs: number }): void {
  const { services, pods, queue, batchMs } = opts;
  const later = (keys: Iterable<string>) => {
    for (const k of keys) batchMs > 0 ? queue.enqueueAfter(k, batchMs) : queue.enqueue(k);
  };
  term.on(services, {
    add: (s) => queue.enqueue(keyOf(s)),
    update: (_o, s) => queue.enqueue(keyOf(s)),
    delete: (s) => queue.enqueue(keyOf(s)),
  });
  term.on(pods, {
    add: (p) => later(servicesForLabels(services, p.metadata.namespace ?? "", p.metadata.labels)),
    update: (old, cur) => later(servicesToUpdateOnPodChange(services, old, cur)),
    delete: (p) => later(servicesForLabels(services, p.metadata.namespace ?? "", p.metadata.labels)),
  });
}

/** Upstream's default maximum of endpoints per EndpointSlice (--max-endpoints-per-slice). */
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;
/**
 * Default batch period (ms). Upstream's flag defaults to 0 (off); 200 ms
 * bounds a Service's writes to about five a second during a rollout or a
 * scale of thousands of pods, at the cost of at most 200 ms more latency
 * before a pod change reaches the proxies.
 */
export const DEFAULT_BATCH_PERIOD_MS = 200;

/** The config property both plugins accept. */
export const BATCH_PERIOD_PROPERTY = {
  endpointUpdatesBatchPeriodMs: { type: "integer", minimum: 0, maximum: 60_000, default: DEFAULT_BATCH_PERIOD_MS },
};
