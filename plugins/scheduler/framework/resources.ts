/**
 * @module Resource arithmetic: Kubernetes quantities to plain numbers (cpu in
 * millicores, the rest in whole units, both rounded up as upstream's
 * MilliValue/Value), a pod's effective requests (upstream's
 * resource.PodRequests: init containers run one at a time, sidecars — init
 * containers with restartPolicy Always — keep running beside everything
 * after them, overhead on top), and a node's allocatable.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Resources } from "../../../core/plugin/scheduler-framework.ts";
import { parseQuantity } from "../../../core/types/quantity.ts";

/** Upstream's defaults for containers without a cpu / memory request (scoring only). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export class MutableResources implements Resources {
  milliCPU = 0;
  memory = 0;
  ephemeralStorage = 0;
  pods = 0;
  scalar: Map<string, number> = EMPTY_SCALAR;

  static from(r: Resources): MutableResources {
    const m = new MutableResources();
    m.milliCPU = r.milliCPU;
    m.memory = r.memory;
    m.ephemeralStorage = r.ephemeralStorage;
    m.pods = r.pods;
    if (r.scalar.size > 0) m.scalar = new Map(r.scalar);
    return m;
  }

  /** Adds `sign` × r. */
  add(r: Resources, sign = 1): void {
    this.milliCPU += sign * r.milliCPU;
    this.memory += sign * r.memory;
    this.ephemeralStorage += sign * r.ephemeralStorage;
    this.pods += sign * r.pods;
    if (r.scalar.size > 0) {
      if (this.scalar === EMPTY_SCALAR) this.scalar = new Map();
      for (const [k, v] of r.scalar) this.scalar.set(k, (this.scalar.get(k) ?? 0) + sign * v);
    }
  }

  set(name: string, v: number): void {
    switch (name) {
      case "cpu":
        this.milliCPU = v;
        return;
      case "memory":
        this.memory = v;
        return;
      case "ephemeral-storage":
        this.ephemeralStorage = v;
        return;
      case "pods":
        this.pods = v;
        return;
      default:
        if (this.scalar === EMPTY_SCALAR) this.scalar = new Map();
        this.scalar.set(name, v);
    }
  }

  get(name: string): number {
    switch (name) {
      case "cpu":
        return this.milliCPU;
      case "memory":
        return this.memory;
      case "ephemeral-storage":
        return this.ephemeralStorage;
      case "pods":
        return this.pods;
      default:
        return this.scalar.get(name) ?? 0;
    }
  }
}

/** Shared empty map: never written (MutableResources swaps in its own before writing). */
const EMPTY_SCALAR = new Map<string, number>();

const MILLI = new Map<string, number>();
const WHOLE = new Map<string, number>();

/** A quantity's value in canonical units for `resource` (cpu → millicores). Unparsable → 0. */
export function quantityValue(resource: string, q: unknown): number {
  if (typeof q !== "string" && typeof q !== "number") return 0;
  const key = typeof q === "number" ? String(q) : q;
  const cache = resource === "cpu" ? MILLI : WHOLE;
  let v = cache.get(key);
  if (v === undefined) {
    const p = parseQuantity(key);
    if ("error" in p) v = 0;
    else {
      const unit = resource === "cpu" ? 1_000_000n : 1_000_000_000n;
      let n = p.nanos / unit;
      if (n * unit < p.nanos) n += 1n; // round up, as MilliValue()/Value()
      v = Number(n);
    }
    if (cache.size > 4096) cache.clear();
    cache.set(key, v);
  }
  return v;
}

type ResourceList = Record<string, unknown> | undefined;

function listOf(container: unknown): ResourceList {
  const res = (container as { resources?: { requests?: Record<string, unknown> } } | undefined)?.resources;
  return res?.requests;
}

function addList(into: Map<string, number>, list: ResourceList): void {
  if (!list) return;
  for (const k in list) into.set(k, (into.get(k) ?? 0) + quantityValue(k, list[k]));
}

function maxInto(into: Map<string, number>, other: Map<string, number>): void {
  for (const [k, v] of other) if (v > (into.get(k) ?? 0)) into.set(k, v);
}

/** With `nonZero`, containers missing a cpu or memory request count upstream's defaults for it. */
function containerRequests(c: unknown, nonZero: boolean): Map<string, number> {
  const m = new Map<string, number>();
  const list = listOf(c);
  addList(m, list);
  if (nonZero) {
    if (!list || list.cpu === undefined) m.set("cpu", DEFAULT_MILLI_CPU_REQUEST);
    if (!list || list.memory === undefined) m.set("memory", DEFAULT_MEMORY_REQUEST);
  }
  return m;
}

function podRequestMap(spec: PodSpecLike, nonZero: boolean): Map<string, number> {
  const reqs = new Map<string, number>();
  for (const c of spec.containers ?? []) for (const [k, v] of containerRequests(c, nonZero)) reqs.set(k, (reqs.get(k) ?? 0) + v);
  const init = spec.initContainers ?? [];
  if (init.length > 0) {
    const sidecars = new Map<string, number>();
    const initMax = new Map<string, number>();
    for (const ic of init) {
      const r = containerRequests(ic, nonZero);
      if ((ic as { restartPolicy?: string }).restartPolicy === "Always") {
        for (const [k, v] of r) sidecars.set(k, (sidecars.get(k) ?? 0) + v);
        maxInto(initMax, sidecars);
      } else {
        for (const [k, v] of sidecars) r.set(k, (r.get(k) ?? 0) + v);
        maxInto(initMax, r);
      }
    }
    for (const [k, v] of sidecars) reqs.set(k, (reqs.get(k) ?? 0) + v);
    maxInto(reqs, initMax);
  }
  addList(reqs, spec.overhead as ResourceList);
  return reqs;
}

interface PodSpecLike {
  containers?: unknown[];
  initContainers?: unknown[];
  overhead?: unknown;
}

/** The pod's effective requests; `pods` is 1. */
export function podRequests(pod: KubeObject): MutableResources {
  const spec = (pod.spec ?? {}) as PodSpecLike;
  const out = new MutableResources();
  for (const [k, v] of podRequestMap(spec, false)) if (k !== "pods") out.set(k, v);
  out.pods = 1;
  return out;
}

/** cpu and memory requests with the non-zero defaults (for scoring). */
export function podNonZeroRequests(pod: KubeObject): { milliCPU: number; memory: number } {
  const m = podRequestMap((pod.spec ?? {}) as PodSpecLike, true);
  return { milliCPU: m.get("cpu") ?? 0, memory: m.get("memory") ?? 0 };
}

/** status.allocatable (status.capacity for resources a node does not report as allocatable). */
export function nodeAllocatable(node: KubeObject): MutableResources {
  const st = (node.status ?? {}) as { allocatable?: Record<string, unknown>; capacity?: Record<string, unknown> };
  const out = new MutableResources();
  const cap = st.capacity ?? {};
  const alloc = st.allocatable ?? {};
  for (const k in cap) out.set(k, quantityValue(k, cap[k]));
  for (const k in alloc) out.set(k, quantityValue(k, alloc[k]));
  return out;
}
