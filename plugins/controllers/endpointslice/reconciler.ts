/**
 * @module The EndpointSlice planner (upstream
 * `staging/src/k8s.io/endpointslice/reconciler.go`), pure: given a Service,
 * its pods and the slices this controller already manages for it, which
 * slices to create, update and delete.
 *
 * Per address type the Service supports, pods are grouped by the ports they
 * serve (a named target port resolves per pod, so pods lacking it, or
 * defining it differently, land in slices of their own). Within a group:
 * 1. existing slices keep the endpoints still desired (changed ones are
 *    rewritten in place), and lose the others — a slice left empty is
 *    deleted;
 * 2. new endpoints fill the slices already being updated, fullest first;
 * 3. what remains goes to the unchanged slice it fits best, else to new
 *    slices of at most `maxEndpointsPerSlice`.
 * Finally a create paired with a delete becomes an update of the deleted
 * slice, and a Service with no endpoints keeps one empty placeholder slice.
 * Nothing is written for a slice whose content did not change.
 */
import type { KubeObject, OwnerReference } from "../../../core/api/meta.ts";
import {
  canonical,
  type EndpointPod,
  findPort,
  HEADLESS_LABEL,
  isHeadless,
  isIPv6,
  isPodReady,
  isServiceIPSet,
  type Node,
  podIPs,
  type Service,
  shouldPodBeInEndpoints,
  shouldSetHostname,
  ZONE_LABEL,
} from "../common/endpoints-util.ts";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
export const CONTROLLER_NAME = "endpointslice-controller.k8s.io";

export type AddressType = "IPv4" | "IPv6" | "FQDN";

export interface SlicePort {
  name?: string;
  port?: number;
  protocol?: string;
  appProtocol?: string;
}

export interface SliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string; resourceVersion?: string };
  hints?: unknown;
}

export interface EndpointSlice extends KubeObject {
  addressType: AddressType;
  endpoints?: SliceEndpoint[] | null;
  ports?: SlicePort[] | null;
}

export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
  /** Pods left out for a reason worth a retry (their Node is not known yet). */
  errors: string[];
}

export interface PlanInput {
  service: Service;
  /** The pods the Service selects (any order). */
  pods: readonly EndpointPod[];
  /** Slices labelled for this Service and this controller, not being deleted. */
  existing: readonly EndpointSlice[];
  node(name: string): Node | undefined;
  maxEndpointsPerSlice: number;
}

/** Upstream getAddressTypesForService: `ipFamilies`, else the cluster IP's family, else (headless) both. */
export function addressTypesForService(svc: Service): Set<AddressType> {
  const out = new Set<AddressType>();
  for (const f of svc.spec?.ipFamilies ?? []) {
    if (f === "IPv4") out.add("IPv4");
    if (f === "IPv6") out.add("IPv6");
  }
  if (out.size > 0) return out;
  if (isServiceIPSet(svc)) return new Set([isIPv6(svc.spec!.clusterIP!) ? "IPv6" : "IPv4"]);
  return new Set(["IPv4", "IPv6"]);
}

/** Whether a slice is owned by this very Service (uid, not just name). */
export function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata.ownerReferences ?? []).some((r) => r.uid === svc.metadata.uid && r.kind === "Service" && r.apiVersion === "v1");
}

function sortPorts(ports: SlicePort[]): SlicePort[] {
  return [...ports].sort((a, b) => {
    const ka = canonical(a);
    const kb = canonical(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** Upstream NewPortMapKey: the ports, normalized, as one string. */
export function portMapKey(ports: readonly SlicePort[] | null | undefined): string {
  return canonical(sortPorts((ports ?? []).map((p) => ({ name: p.name ?? "", port: p.port, protocol: p.protocol ?? "TCP", ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }))));
}

/** Upstream getEndpointPorts: every Service port the pod can serve, resolved for it. */
export function endpointPorts(svc: Service, pod: EndpointPod): SlicePort[] {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0 && isHeadless(svc)) return [];
  const out: SlicePort[] = [];
  for (const sp of ports) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({ name: sp.name ?? "", port, protocol: sp.protocol ?? "TCP", ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

/** Upstream podToEndpoint. */
export function podToEndpoint(pod: EndpointPod, node: Node | undefined, svc: Service, addressType: AddressType): SliceEndpoint {
  const serving = isPodReady(pod);
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  // A terminating pod is never "ready", unless the Service publishes not-ready addresses.
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: SliceEndpoint = {
    addresses: podIPs(pod).filter((ip) => isIPv6(ip) === (addressType === "IPv6")),
    conditions: { ready, serving, terminating },
    targetRef: { kind: "Pod", namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata.labels?.[ZONE_LABEL];
  if (zone) ep.zone = zone;
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec!.hostname!;
  return ep;
}

/** Upstream hashEndpoint: an endpoint's identity (addresses, hostname, target). */
export function endpointKey(ep: SliceEndpoint): string {
  return JSON.stringify([[...ep.addresses].sort(), ep.hostname ?? "", ep.targetRef?.namespace ?? "", ep.targetRef?.name ?? ""]);
}

/** Upstream EndpointsEqualBeyondHash: node, zone, conditions, target (resourceVersion aside). */
export function endpointsEqualBeyondKey(a: SliceEndpoint, b: SliceEndpoint): boolean {
  return (
    a.nodeName === b.nodeName &&
    a.zone === b.zone &&
    a.conditions?.ready === b.conditions?.ready &&
    a.conditions?.serving === b.conditions?.serving &&
    a.conditions?.terminating === b.conditions?.terminating &&
    canonical(a.targetRef ?? null) === canonical(b.targetRef ?? null)
  );
}

const RESERVED = new Set([SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL]);

/** Upstream setEndpointSliceLabels: the Service's labels plus the reserved ones; and whether the slice's differ. */
export function sliceLabels(slice: EndpointSlice | undefined, svc: Service): { labels: Record<string, string>; changed: boolean } {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) if (!RESERVED.has(k)) labels[k] = v;
  if (!isServiceIPSet(svc)) labels[HEADLESS_LABEL] = "";
  labels[SERVICE_NAME_LABEL] = svc.metadata.name!;
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  const have = slice?.metadata.labels ?? {};
  const changed = Object.keys(have).length !== Object.keys(labels).length || Object.entries(labels).some(([k, v]) => have[k] !== v);
  return { labels, changed };
}

/** Upstream getEndpointSlicePrefix: `<service>-`. */
function generateNameFor(svcName: string): string {
  return svcName.length + 1 <= 253 - 5 ? `${svcName}-` : svcName;
}

function serviceRef(svc: Service): OwnerReference {
  return { apiVersion: "v1", kind: "Service", name: svc.metadata.name!, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** Upstream newEndpointSlice: empty, owned by the Service, named `<service>-<random>` by the server. */
export function newSlice(svc: Service, ports: SlicePort[], addressType: AddressType): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      generateName: generateNameFor(svc.metadata.name!),
      namespace: svc.metadata.namespace!,
      labels: sliceLabels(undefined, svc).labels,
      ownerReferences: [serviceRef(svc)],
    },
    addressType,
    endpoints: [],
    ports,
  };
}

function copySlice(s: EndpointSlice): EndpointSlice {
  const c = structuredClone(s);
  delete c.metadata.managedFields;
  return c;
}

/** Upstream getSliceToFill: the slice with the least room that still fits `n` more. */
function sliceToFill(slices: EndpointSlice[], n: number, max: number): EndpointSlice | undefined {
  let best: EndpointSlice | undefined;
  let closest = max;
  for (const s of slices) {
    const diff = max - (n + (s.endpoints?.length ?? 0));
    if (diff >= 0 && diff < closest) {
      closest = diff;
      best = s;
      if (diff === 0) break;
    }
  }
  return best;
}

/** Upstream reconcileByPortMapping: one group of pods with the same ports. */
function planPortMapping(
  svc: Service,
  existing: readonly EndpointSlice[],
  desired: Map<string, SliceEndpoint>,
  meta: { ports: SlicePort[]; addressType: AddressType },
  max: number,
): { create: EndpointSlice[]; update: EndpointSlice[]; delete: EndpointSlice[] } {
  const byName = new Map<string, EndpointSlice>();
  const unchanged = new Set<string>();
  const toUpdate = new Set<string>();
  const toDelete = new Set<string>();

  // 1. Keep what is still desired in the existing slices, drop the rest.
  for (const slice of existing) {
    const name = slice.metadata.name!;
    byName.set(name, slice);
    const kept: SliceEndpoint[] = [];
    let endpointChanged = false;
    for (const ep of slice.endpoints ?? []) {
      const key = endpointKey(ep);
      const want = desired.get(key);
      if (!want) continue;
      kept.push(want);
      if (!endpointsEqualBeyondKey(want, ep)) endpointChanged = true;
      desired.delete(key);
    }
    const { labels, changed: labelsChanged } = sliceLabels(slice, svc);
    if (endpointChanged || kept.length !== (slice.endpoints?.length ?? 0)) {
      if (kept.length === 0) toDelete.add(name);
      else {
        const c = copySlice(slice);
        c.endpoints = kept;
        c.metadata.labels = labels;
        byName.set(name, c);
        toUpdate.add(name);
      }
    } else if (labelsChanged) {
      const c = copySlice(slice);
      c.metadata.labels = labels;
      byName.set(name, c);
      toUpdate.add(name);
    } else {
      unchanged.add(name);
    }
  }

  const pop = (into: EndpointSlice) => {
    const [key, ep] = desired.entries().next().value as [string, SliceEndpoint];
    desired.delete(key);
    (into.endpoints ??= []).push(ep);
  };

  // 2. Fill the slices being updated anyway, fullest first.
  if (desired.size > 0 && toUpdate.size > 0) {
    const slices = [...toUpdate].map((n) => byName.get(n)!).sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
    for (const s of slices) while (desired.size > 0 && (s.endpoints?.length ?? 0) < max) pop(s);
  }

  // 3. The rest: into the unchanged slice it fits best, else new slices.
  const create: EndpointSlice[] = [];
  while (desired.size > 0) {
    let fill: EndpointSlice | undefined;
    if (desired.size < max && unchanged.size > 0) {
      const found = sliceToFill([...unchanged].map((n) => byName.get(n)!), desired.size, max);
      if (found) {
        fill = copySlice(found);
        byName.set(fill.metadata.name!, fill);
      }
    }
    fill ??= newSlice(svc, meta.ports, meta.addressType);
    while (desired.size > 0 && (fill.endpoints?.length ?? 0) < max) pop(fill);
    if (fill.metadata.name) {
      toUpdate.add(fill.metadata.name);
      unchanged.delete(fill.metadata.name);
    } else {
      create.push(fill);
    }
  }
  return { create, update: [...toUpdate].map((n) => byName.get(n)!), delete: [...toDelete].map((n) => byName.get(n)!) };
}

/** Upstream placeholderSliceCompare: same namespace, labels, address type, owner; no endpoints, no ports. */
function isPlaceholderFor(slice: EndpointSlice, placeholder: EndpointSlice, svc: Service): boolean {
  return (
    slice.metadata.namespace === placeholder.metadata.namespace &&
    canonical(slice.metadata.labels ?? {}) === canonical(placeholder.metadata.labels ?? {}) &&
    slice.addressType === placeholder.addressType &&
    (slice.endpoints ?? []).length === 0 &&
    (slice.ports ?? []).length === 0 &&
    ownedBy(slice, svc)
  );
}

/** Upstream reconcileByAddressType. */
function planAddressType(input: PlanInput, existing: readonly EndpointSlice[], addressType: AddressType, errors: string[]): Omit<SlicePlan, "errors"> {
  const { service: svc } = input;
  const create: EndpointSlice[] = [];
  const update: EndpointSlice[] = [];
  const del: EndpointSlice[] = [];

  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    if (!ownedBy(s, svc)) {
      del.push(s); // a namesake's leftovers (the Service was deleted and recreated)
      continue;
    }
    const k = portMapKey(s.ports);
    existingByPorts.set(k, [...(existingByPorts.get(k) ?? []), s]);
  }

  const desired = new Map<string, { meta: { ports: SlicePort[]; addressType: AddressType }; endpoints: Map<string, SliceEndpoint> }>();
  const pods = [...input.pods].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = endpointPorts(svc, pod);
    const k = portMapKey(ports);
    let group = desired.get(k);
    if (!group) desired.set(k, (group = { meta: { ports, addressType }, endpoints: new Map() }));
    const nodeName = pod.spec?.nodeName ?? "";
    const node = nodeName ? input.node(nodeName) : undefined;
    if (!node && svc.spec?.publishNotReadyAddresses !== true) {
      // Retried later; the slices are still written without this pod.
      errors.push(`skipping Pod ${pod.metadata.name} for Service ${svc.metadata.namespace}/${svc.metadata.name}: Node ${nodeName} Not Found`);
      continue;
    }
    const ep = podToEndpoint(pod, node, svc, addressType);
    if (ep.addresses.length > 0) group.endpoints.set(endpointKey(ep), ep);
  }

  for (const [k, group] of desired) {
    const p = planPortMapping(svc, existingByPorts.get(k) ?? [], group.endpoints, group.meta, input.maxEndpointsPerSlice);
    create.push(...p.create);
    update.push(...p.update);
    del.push(...p.delete);
  }
  for (const [k, slices] of existingByPorts) if (!desired.has(k)) del.push(...slices);

  // No endpoints at all: one empty placeholder slice.
  if (existing.length === del.length && create.length === 0) {
    const placeholder = newSlice(svc, [], addressType);
    if (del.length === 1 && isPlaceholderFor(del[0]!, placeholder, svc)) del.length = 0;
    else create.push(placeholder);
  }
  return { create, update, delete: del };
}

/**
 * Upstream Reconcile + finalize: the writes that bring the Service's slices
 * to the desired state. Creates paired with deletes of owned slices of the
 * same address type become updates of those slices (fewer writes, stable
 * names); a Service being deleted gets no new slices.
 */
export function planSlices(input: PlanInput): SlicePlan {
  const errors: string[] = [];
  const types = addressTypesForService(input.service);
  const byType = new Map<AddressType, EndpointSlice[]>();
  const plan: SlicePlan = { create: [], update: [], delete: [], errors };
  for (const s of input.existing) {
    if (!types.has(s.addressType)) {
      plan.delete.push(s);
      continue;
    }
    byType.set(s.addressType, [...(byType.get(s.addressType) ?? []), s]);
  }
  for (const t of [...types].sort()) {
    const p = planAddressType(input, byType.get(t) ?? [], t, errors);
    plan.create.push(...p.create);
    plan.update.push(...p.update);
    plan.delete.push(...p.delete);
  }

  for (let i = 0; i < plan.delete.length && plan.create.length > 0; ) {
    const gone = plan.delete[i]!;
    const made = plan.create[plan.create.length - 1]!;
    if (gone.addressType === made.addressType && ownedBy(gone, input.service)) {
      made.metadata = { ...made.metadata, name: gone.metadata.name!, resourceVersion: gone.metadata.resourceVersion! };
      plan.create.pop();
      plan.update.push(made);
      plan.delete.splice(i, 1);
    } else {
      i++;
    }
  }
  if (input.service.metadata.deletionTimestamp !== undefined) plan.create = [];
  return plan;
}
