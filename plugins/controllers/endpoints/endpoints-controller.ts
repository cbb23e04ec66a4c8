/**
 * @module The Endpoints controller (upstream
 * `pkg/controller/endpoint/endpoints_controller.go`): for each Service with a
 * selector, a core/v1 Endpoints of the same name listing its pods —
 * `addresses` when ready (or `publishNotReadyAddresses`), else
 * `notReadyAddresses` — grouped into subsets by the ports they serve
 * (upstream RepackSubsets), at most 1,000 addresses (the rest truncated and
 * the object annotated over-capacity). Terminating pods are left out unless
 * the Service publishes not-ready addresses. The Endpoints is written only
 * when its subsets, labels or capacity annotation differ from what is
 * stored; a Service that is gone takes its Endpoints with it.
 */
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import { splitKey } from "../../../core/client/keys.ts";
import type { Client, Informer, Reconciler, ReconcileResult } from "../../../core/client/types.ts";
import type { Logger } from "../../../core/log.ts";
import type { EventSink } from "../../../core/plugin/types.ts";
import {
  canonical,
  ENDPOINTS,
  type EndpointPod,
  findPort,
  HEADLESS_LABEL,
  isHeadless,
  isIPv6,
  isPodReady,
  isServiceIPSet,
  podIPs,
  type Service,
  serviceSelector,
  shouldPodBeInEndpoints,
  shouldSetHostname,
} from "../common/endpoints-util.ts";
import { isNamespaceTerminating } from "../common/refs.ts";

/** Most addresses one Endpoints holds (upstream maxCapacity). */
export const MAX_ENDPOINTS_CAPACITY = 1000;
/** Set to "truncated" on an Endpoints holding fewer addresses than its Service has (v1.EndpointsOverCapacity). */
export const OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity";
/** Endpoints carrying the old leader-election record are never treated as leftovers. */
export const LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader";

export interface ObjectReference {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: ObjectReference;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface Endpoints extends KubeObject {
  subsets?: EndpointSubset[];
}

/** One address serving one port (or no port: headless Services without ports), ready or not. */
interface Entry {
  addr: EndpointAddress;
  port: EndpointPort | undefined;
  ready: boolean;
}

/**
 * The pod IP of the Service's primary family (upstream
 * podToEndpointAddressForService): `ipFamilies[0]`, else the cluster IP's
 * family, else (headless) the pod IP's own.
 */
function endpointIP(svc: Service, pod: EndpointPod): string | undefined {
  const ips = podIPs(pod);
  let v6: boolean;
  const families = svc.spec?.ipFamilies ?? [];
  if (families.length > 0) v6 = families[0] === "IPv6";
  else if (isServiceIPSet(svc)) v6 = isIPv6(svc.spec!.clusterIP!);
  else v6 = isIPv6(ips[0] ?? "");
  return ips.find((ip) => isIPv6(ip) === v6);
}

function lessAddress(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? "";
  const ub = b.targetRef?.uid ?? "";
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

function lessPort(a: EndpointPort, b: EndpointPort): number {
  const ka = `${a.name ?? ""}\u0000${String(a.port).padStart(5, "0")}\u0000${a.protocol ?? ""}`;
  const kb = `${b.name ?? ""}\u0000${String(b.port).padStart(5, "0")}\u0000${b.protocol ?? ""}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Upstream RepackSubsets: every (address, port) pair regrouped so that each
 * subset is one set of addresses with every port they all serve; an address
 * not ready for a port is not ready there (not-ready wins). Addresses are
 * keyed by IP and pod uid. Sorted, so equal inputs give equal output.
 */
export function repackSubsets(entries: readonly Entry[]): EndpointSubset[] {
  const addrs = new Map<string, EndpointAddress>();
  const byPort = new Map<string, { port: EndpointPort | undefined; ready: Map<string, boolean> }>();
  for (const e of entries) {
    const ak = `${e.addr.ip}\u0000${e.addr.targetRef?.uid ?? ""}`;
    if (!addrs.has(ak)) addrs.set(ak, e.addr);
    const pk = e.port ? canonical(e.port) : "-";
    let g = byPort.get(pk);
    if (!g) byPort.set(pk, (g = { port: e.port, ready: new Map() }));
    const was = g.ready.get(ak);
    if (was === undefined || was) g.ready.set(ak, e.ready);
  }
  const groups = new Map<string, { ready: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, ready } of byPort.values()) {
    const key = [...ready.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([a, r]) => `${a}\u0000${r}`)
      .join("\u0001");
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ready, ports: [] }));
    if (port) g.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ready: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [ak, r] of g.ready) (r ? ready : notReady).push(addrs.get(ak)!);
    const s: EndpointSubset = {};
    if (ready.length > 0) s.addresses = ready.sort(lessAddress);
    if (notReady.length > 0) s.notReadyAddresses = notReady.sort(lessAddress);
    if (g.ports.length > 0) s.ports = g.ports.sort(lessPort);
    out.push(s);
  }
  return out.sort((a, b) => {
    const ka = canonical(a);
    const kb = canonical(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** The subsets a Service's Endpoints should hold for `pods` (already selected by the Service's selector). */
export function desiredSubsets(svc: Service, pods: readonly EndpointPod[]): EndpointSubset[] {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const ports = svc.spec?.ports ?? [];
  const entries: Entry[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = endpointIP(svc, pod);
    if (!ip) continue;
    const addr: EndpointAddress = {
      ip,
      ...(shouldSetHostname(pod, svc) ? { hostname: pod.spec!.hostname! } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: "Pod", namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
    };
    const ready = publishNotReady || isPodReady(pod);
    if (ports.length === 0) {
      if (isHeadless(svc)) entries.push({ addr, port: undefined, ready });
      continue;
    }
    for (const sp of ports) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      entries.push({
        addr,
        port: { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? "TCP", ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) },
        ready,
      });
    }
  }
  return repackSubsets(entries);
}

/**
 * Upstream truncateEndpoints: keeps at most `max` addresses — not-ready ones
 * dropped first; each subset keeps its share (rounded up). Returns whether
 * anything was dropped.
 */
export function truncateSubsets(subsets: EndpointSubset[], max = MAX_ENDPOINTS_CAPACITY): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= max) return false;
  const truncateReady = totalReady > max;
  const room = truncateReady ? max : max - totalReady;
  const total = truncateReady ? totalReady : totalNotReady;
  let left = room;
  for (const s of subsets) {
    const n = (truncateReady ? s.addresses?.length : s.notReadyAddresses?.length) ?? 0;
    const keep = Math.min(Math.ceil((n / total) * room), left);
    if (truncateReady) {
      s.addresses = (s.addresses ?? []).slice(0, keep);
      delete s.notReadyAddresses;
      left -= s.addresses.length;
      if (s.addresses.length === 0) delete s.addresses;
    } else {
      s.notReadyAddresses = (s.notReadyAddresses ?? []).slice(0, keep);
      left -= s.notReadyAddresses.length;
      if (s.notReadyAddresses.length === 0) delete s.notReadyAddresses;
    }
  }
  return true;
}

function withoutHeadless(labels: Record<string, string> | undefined): Record<string, string> {
  const out = { ...(labels ?? {}) };
  delete out[HEADLESS_LABEL];
  return out;
}

export interface EndpointsControllerDeps {
  client: Client;
  events: EventSink;
  log: Logger;
  services: Informer<Service>;
  pods: Informer<EndpointPod>;
  endpoints: Informer<Endpoints>;
  /** The batch period: how soon a sync that found the cache behind our last write runs again. */
  batchMs: number;
}

export class EndpointsReconciler implements Reconciler {
  readonly name = "endpoints";
  readonly #d: EndpointsControllerDeps;
  /**
   * Upstream staleEndpointsTracker: per key, the resourceVersion our last
   * write replaced ("" for a create). Finding it again in the cache means the
   * informer has not seen our write yet: retry later instead of writing from
   * stale data (and failing with a Conflict or AlreadyExists).
   */
  readonly #replaced = new Map<string, string>();
  /** The resourceVersion of our last write per key, so its watch event does not trigger a sync. */
  readonly #written = new Map<string, string>();

  readonly #retryMs: number;

  constructor(deps: EndpointsControllerDeps) {
    this.#d = deps;
    this.#retryMs = Math.max(deps.batchMs, 10);
  }

  /** True when an Endpoints event is the echo of our own write. */
  isOwnWrite(ep: Endpoints, key: string): boolean {
    return this.#written.get(key) === ep.metadata.resourceVersion;
  }

  /** Called when an Endpoints leaves the cache: a later sync may create it afresh. */
  forget(key: string): void {
    this.#replaced.delete(key);
    this.#written.delete(key);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const d = this.#d;
    const svc = d.services.get(name, namespace);
    if (!svc) {
      // The Service is gone: so is its Endpoints (upstream deletes it whoever made it).
      this.forget(key);
      if (!d.endpoints.get(name, namespace)) return;
      try {
        await d.client.delete(ENDPOINTS, name, { namespace });
      } catch (e) {
        if (!isApiError(e, "NotFound")) throw e;
      }
      return;
    }
    if (svc.spec?.type === "ExternalName") return;
    const selector = serviceSelector(svc);
    if (!selector) return; // no selector: the Endpoints is the user's

    const current = d.endpoints.get(name, namespace);
    const seen = current?.metadata.resourceVersion ?? "";
    if (this.#replaced.get(key) === seen) {
      // Our last write is not in the cache yet: look again after a batch period (not at once, which would undo the batching).
      return { requeueAfter: this.#retryMs };
    }

    const pods = d.pods.list(namespace).filter((p) => selector.matches(p.metadata.labels ?? {}));
    const subsets = desiredSubsets(svc, pods);
    const truncated = truncateSubsets(subsets);
    const labels = withoutHeadless(svc.metadata.labels);
    if (!isServiceIPSet(svc)) labels[HEADLESS_LABEL] = "";

    if (
      current &&
      canonical(current.subsets ?? []) === canonical(subsets) &&
      canonical(current.metadata.labels ?? {}) === canonical(labels) &&
      (current.metadata.annotations?.[OVER_CAPACITY_ANNOTATION] !== undefined) === truncated
    ) {
      return;
    }

    const annotations = { ...(current?.metadata.annotations ?? {}) };
    if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = "truncated";
    else delete annotations[OVER_CAPACITY_ANNOTATION];
    const meta = { ...(current ? structuredClone(current.metadata) : { name, namespace }), labels, annotations };
    delete meta.managedFields;
    if (Object.keys(annotations).length === 0) delete (meta as { annotations?: unknown }).annotations;
    const next: Endpoints = { apiVersion: "v1", kind: "Endpoints", metadata: meta, ...(subsets.length > 0 ? { subsets } : {}) };
    let written: Endpoints;
    try {
      written = current ? await d.client.update<Endpoints>(ENDPOINTS, next) : await d.client.create<Endpoints>(ENDPOINTS, next);
    } catch (e) {
      if (!current && isNamespaceTerminating(e)) return;
      if (!isApiError(e, "Conflict") && !isApiError(e, "AlreadyExists")) {
        d.events.record(svc, "Warning", current ? "FailedToUpdateEndpoint" : "FailedToCreateEndpoint", `Failed to ${current ? "update" : "create"} endpoint ${namespace}/${name}: ${(e as Error).message}`);
      }
      throw e;
    }
    if (written.metadata.resourceVersion !== seen) this.#replaced.set(key, seen);
    this.#written.set(key, written.metadata.resourceVersion ?? "");
    d.log.debug({ service: key, subsets: subsets.length, truncated }, "endpoints written");
  }
}
