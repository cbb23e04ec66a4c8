/**
 * @module PodInfo: a pod with everything scheduling needs parsed once —
 * requests, (anti-)affinity terms with compiled selectors, host ports,
 * tolerations and priority — so filters and scores never re-read the spec.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import type { AffinityTerm, HostPort, PodInfo, Resources, Toleration, WeightedAffinityTerm } from "../../../core/plugin/scheduler-framework.ts";
import type { CompiledSelector } from "../../../core/types/selector-match.ts";
import { podNonZeroRequests, podRequests } from "./resources.ts";
import { andSelector, compileLabelSelector, type Labels, matchesSelector } from "./selectors.ts";

/** Resolves a pod's priority when spec.priority is unset (from PriorityClasses). */
export type PriorityResolver = (pod: KubeObject) => number;

class Term implements AffinityTerm {
  constructor(
    readonly topologyKey: string,
    private readonly namespaces: ReadonlySet<string>,
    /** undefined: no namespaceSelector (selects no namespace by labels). */
    private readonly namespaceSelector: CompiledSelector | undefined,
    private readonly selector: CompiledSelector,
  ) {}

  matches(pod: PodInfo, namespaceLabels: Labels | undefined): boolean {
    if (
      this.namespaces.has(pod.namespace) ||
      (this.namespaceSelector !== undefined && matchesSelector(this.namespaceSelector, namespaceLabels ?? {}))
    ) {
      return matchesSelector(this.selector, pod.labels);
    }
    return false;
  }
}

interface RawTerm {
  labelSelector?: unknown;
  namespaces?: string[];
  namespaceSelector?: unknown;
  topologyKey?: string;
  matchLabelKeys?: string[];
  mismatchLabelKeys?: string[];
}

function compileTerm(raw: RawTerm, ownNamespace: string, ownLabels: Labels): AffinityTerm {
  const namespaces = new Set(raw.namespaces ?? []);
  const nsSel = raw.namespaceSelector === undefined || raw.namespaceSelector === null ? undefined : compileLabelSelector(raw.namespaceSelector);
  if (namespaces.size === 0 && nsSel === undefined) namespaces.add(ownNamespace);
  const extra: ((l: Labels) => boolean)[] = [];
  // matchLabelKeys / mismatchLabelKeys only apply together with a labelSelector.
  if (raw.labelSelector) {
    for (const k of raw.matchLabelKeys ?? []) {
      const v = ownLabels[k];
      if (v !== undefined) extra.push((l) => l[k] === v);
    }
    for (const k of raw.mismatchLabelKeys ?? []) {
      const v = ownLabels[k];
      if (v !== undefined) extra.push((l) => l[k] !== v);
    }
  }
  const selector = andSelector(compileLabelSelector(raw.labelSelector), extra);
  return new Term(raw.topologyKey ?? "", namespaces, nsSel, selector);
}

function weighted(list: unknown, ns: string, labels: Labels): WeightedAffinityTerm[] {
  const out: WeightedAffinityTerm[] = [];
  for (const w of Array.isArray(list) ? (list as { weight?: number; podAffinityTerm?: RawTerm }[]) : []) {
    if (!w?.podAffinityTerm || !w.weight) continue;
    out.push({ weight: w.weight, term: compileTerm(w.podAffinityTerm, ns, labels) });
  }
  return out;
}

function required(list: unknown, ns: string, labels: Labels): AffinityTerm[] {
  return (Array.isArray(list) ? (list as RawTerm[]) : []).filter((t) => t).map((t) => compileTerm(t, ns, labels));
}

interface PodSpecLike {
  nodeName?: string;
  schedulerName?: string;
  priority?: number;
  tolerations?: Toleration[];
  schedulingGates?: unknown[];
  containers?: { ports?: { hostPort?: number; hostIP?: string; protocol?: string }[] }[];
  initContainers?: { restartPolicy?: string; ports?: { hostPort?: number; hostIP?: string; protocol?: string }[] }[];
  affinity?: {
    podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: unknown; preferredDuringSchedulingIgnoredDuringExecution?: unknown };
    podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: unknown; preferredDuringSchedulingIgnoredDuringExecution?: unknown };
  };
}

const NO_TERMS: readonly never[] = Object.freeze([]);

export class PodInfoImpl implements PodInfo {
  readonly pod: KubeObject;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  readonly labels: Labels;
  readonly priority: number;
  readonly requests: Resources;
  readonly nonZeroRequests: { readonly milliCPU: number; readonly memory: number };
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  readonly hostPorts: readonly HostPort[];
  readonly tolerations: readonly Toleration[];
  readonly terminating: boolean;
  /** spec.nodeName ("" while unscheduled). */
  readonly nodeName: string;
  readonly schedulerName: string;
  /** status.nominatedNodeName ("" when none). */
  readonly nominatedNodeName: string;
  /** spec.schedulingGates is not empty. */
  readonly gated: boolean;
  readonly hasAffinity: boolean;
  readonly hasRequiredAntiAffinity: boolean;
  /** Succeeded or Failed: holds no resources. */
  readonly finished: boolean;

  /**
   * Parses `pod`. With `reuse` (the same pod before a change that left its
   * spec alone apart from nodeName — a binding), the parsed requests, terms,
   * ports and tolerations are taken from it instead.
   */
  constructor(pod: KubeObject, resolvePriority?: PriorityResolver, reuse?: PodInfoImpl) {
    const spec = (pod.spec ?? {}) as PodSpecLike;
    const md = pod.metadata;
    this.pod = pod;
    this.uid = md.uid ?? "";
    this.namespace = md.namespace ?? "";
    this.name = md.name ?? "";
    this.key = `${this.namespace}/${this.name}`;
    this.labels = md.labels ?? {};
    this.terminating = md.deletionTimestamp !== undefined && md.deletionTimestamp !== null;
    this.nodeName = spec.nodeName ?? "";
    this.schedulerName = spec.schedulerName ?? "default-scheduler";
    const status = (pod.status ?? {}) as { nominatedNodeName?: string; phase?: string };
    this.nominatedNodeName = status.nominatedNodeName ?? "";
    this.finished = status.phase === "Succeeded" || status.phase === "Failed";
    this.gated = Array.isArray(spec.schedulingGates) && spec.schedulingGates.length > 0;
    if (reuse) {
      this.priority = reuse.priority;
      this.requests = reuse.requests;
      this.nonZeroRequests = reuse.nonZeroRequests;
      this.requiredAffinityTerms = reuse.requiredAffinityTerms;
      this.requiredAntiAffinityTerms = reuse.requiredAntiAffinityTerms;
      this.preferredAffinityTerms = reuse.preferredAffinityTerms;
      this.preferredAntiAffinityTerms = reuse.preferredAntiAffinityTerms;
      this.hasAffinity = reuse.hasAffinity;
      this.hasRequiredAntiAffinity = reuse.hasRequiredAntiAffinity;
      this.hostPorts = reuse.hostPorts;
      this.tolerations = spec.tolerations ?? NO_TERMS;
      return;
    }
    this.priority = typeof spec.priority === "number" ? spec.priority : (resolvePriority?.(pod) ?? 0);
    this.requests = podRequests(pod);
    this.nonZeroRequests = podNonZeroRequests(pod);
    const aff = spec.affinity;
    const pa = aff?.podAffinity;
    const paa = aff?.podAntiAffinity;
    if (pa || paa) {
      this.requiredAffinityTerms = required(pa?.requiredDuringSchedulingIgnoredDuringExecution, this.namespace, this.labels);
      this.requiredAntiAffinityTerms = required(paa?.requiredDuringSchedulingIgnoredDuringExecution, this.namespace, this.labels);
      this.preferredAffinityTerms = weighted(pa?.preferredDuringSchedulingIgnoredDuringExecution, this.namespace, this.labels);
      this.preferredAntiAffinityTerms = weighted(paa?.preferredDuringSchedulingIgnoredDuringExecution, this.namespace, this.labels);
    } else {
      this.requiredAffinityTerms = this.requiredAntiAffinityTerms = NO_TERMS;
      this.preferredAffinityTerms = this.preferredAntiAffinityTerms = NO_TERMS;
    }
    this.hasRequiredAntiAffinity = this.requiredAntiAffinityTerms.length > 0;
    this.hasAffinity =
      this.requiredAffinityTerms.length + this.requiredAntiAffinityTerms.length + this.preferredAffinityTerms.length + this.preferredAntiAffinityTerms.length > 0;
    const ports: HostPort[] = [];
    const addPorts = (list: { hostPort?: number; hostIP?: string; protocol?: string }[] | undefined) => {
      for (const p of list ?? []) {
        if (!p.hostPort || p.hostPort <= 0) continue;
        ports.push({ protocol: p.protocol || "TCP", hostIP: p.hostIP || "0.0.0.0", port: p.hostPort });
      }
    };
    for (const c of spec.containers ?? []) addPorts(c.ports);
    for (const c of spec.initContainers ?? []) if (c.restartPolicy === "Always") addPorts(c.ports);
    this.hostPorts = ports.length > 0 ? ports : NO_TERMS;
    this.tolerations = spec.tolerations ?? NO_TERMS;
  }
}
