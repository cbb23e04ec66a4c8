/**
 * @module What an object costs against a ResourceQuota (upstream
 * `pkg/quota/v1/evaluator/core` and the generic object-count evaluator):
 * every object counts 1 toward `count/<resource>[.<group>]`; pods,
 * services, configmaps, secrets, replicationcontrollers, resourcequotas and
 * persistentvolumeclaims also toward their legacy names; pods charge
 * `requests.*` / `limits.*` (and `cpu`/`memory` = requests) as the larger of
 * the sum over containers and the largest init container, plus overhead;
 * services charge `services.nodeports` and `services.loadbalancers`;
 * claims `requests.storage`. Terminal pods cost nothing.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import { formatQuantity, type Quantity, quantityOf } from "../../../core/types/quantity.ts";
import { asArr, asObj, type Container, type Json, type PodSpec } from "../common.ts";

/** Usage as exact nano-quantities, keeping the format of the first value seen (for printing). */
export type Usage = Map<string, Quantity>;

const LEGACY_COUNTS = new Set(["pods", "services", "configmaps", "secrets", "replicationcontrollers", "resourcequotas", "persistentvolumeclaims"]);
const POD_COMPUTE = ["cpu", "memory", "ephemeral-storage"];
export const one: Quantity = { nanos: 1_000_000_000n, format: "DecimalSI" };

export function add(u: Usage, name: string, q: Quantity): void {
  const cur = u.get(name);
  u.set(name, cur ? { nanos: cur.nanos + q.nanos, format: cur.nanos === 0n ? q.format : cur.format } : q);
}

export function countName(group: string, resource: string): string {
  return group ? `count/${resource}.${group}` : `count/${resource}`;
}

/** `group/resource` of a `count/x.y` name (the core group when no dot). */
export function parseCountName(name: string): { group: string; resource: string } | undefined {
  if (!name.startsWith("count/")) return undefined;
  const rest = name.slice(6);
  const dot = rest.indexOf(".");
  return dot < 0 ? { group: "", resource: rest } : { group: rest.slice(dot + 1), resource: rest.slice(0, dot) };
}

export function isTerminalPod(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

function resourceList(v: unknown): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  for (const [k, raw] of Object.entries(asObj(v) ?? {})) {
    const q = quantityOf(raw);
    if (q) out.set(k, q);
  }
  return out;
}

/** max(sum(containers), max(init containers)) + overhead, per resource, for `requests` or `limits`. */
export function podCompute(spec: PodSpec, kind: "requests" | "limits"): Map<string, Quantity> {
  const sum = new Map<string, Quantity>();
  const sumOf = (list: Container[] | undefined, into: Map<string, Quantity>) => {
    for (const c of list ?? []) for (const [k, q] of resourceList(asObj(c.resources)?.[kind])) add(into, k, q);
  };
  sumOf(spec.containers, sum);
  for (const c of spec.initContainers ?? []) {
    for (const [k, q] of resourceList(asObj(c.resources)?.[kind])) {
      const cur = sum.get(k);
      if (!cur || q.nanos > cur.nanos) sum.set(k, q);
    }
  }
  for (const [k, q] of resourceList(spec.overhead)) add(sum, k, q);
  return sum;
}

/** What `obj` (of `group`/`resource`) costs. */
export function usageOf(group: string, resource: string, obj: KubeObject): Usage {
  const u: Usage = new Map();
  if (group === "" && resource === "pods" && isTerminalPod(obj)) return u;
  u.set(countName(group, resource), one);
  if (group !== "" || !LEGACY_COUNTS.has(resource)) return u;
  u.set(resource, one);
  const spec = (obj.spec ?? {}) as PodSpec & Json;
  if (resource === "pods") {
    const requests = podCompute(spec, "requests");
    const limits = podCompute(spec, "limits");
    for (const r of POD_COMPUTE) {
      const req = requests.get(r);
      if (req) {
        u.set(`requests.${r}`, req);
        if (r !== "ephemeral-storage") u.set(r, req);
      }
      const lim = limits.get(r);
      if (lim) u.set(`limits.${r}`, lim);
    }
    for (const [k, q] of requests) if (k.startsWith("hugepages-")) u.set(`requests.${k}`, q);
  } else if (resource === "services") {
    const type = spec.type ?? "ClusterIP";
    const ports = asArr(spec.ports);
    if (type === "NodePort" || type === "LoadBalancer") u.set("services.nodeports", { nanos: BigInt(ports.length) * one.nanos, format: "DecimalSI" });
    if (type === "LoadBalancer") u.set("services.loadbalancers", one);
  } else if (resource === "persistentvolumeclaims") {
    const storage = quantityOf(asObj(asObj(spec.resources)?.requests)?.storage);
    if (storage) u.set("requests.storage", storage);
  }
  return u;
}

/** Whether a quota's scopes (and scopeSelector) select this object; scoped quotas only track pods. */
export function matchesScopes(quotaSpec: Json, group: string, resource: string, obj: KubeObject): boolean {
  const scopes = asArr(quotaSpec.scopes).map(String);
  const exprs = asArr(asObj(quotaSpec.scopeSelector)?.matchExpressions).map((e) => asObj(e) ?? {});
  if (scopes.length === 0 && exprs.length === 0) return true;
  if (group !== "" || resource !== "pods") return false;
  const spec = (obj.spec ?? {}) as PodSpec & Json;
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  const bestEffort = containers.every((c) => Object.keys(asObj(asObj(c.resources)?.requests) ?? {}).length === 0 && Object.keys(asObj(asObj(c.resources)?.limits) ?? {}).length === 0);
  const terminating = typeof spec.activeDeadlineSeconds === "number";
  const scope = (name: string, op = "Exists", values: string[] = []): boolean => {
    switch (name) {
      case "Terminating":
        return terminating;
      case "NotTerminating":
        return !terminating;
      case "BestEffort":
        return bestEffort;
      case "NotBestEffort":
        return !bestEffort;
      case "PriorityClass": {
        const pc = typeof spec.priorityClassName === "string" ? spec.priorityClassName : "";
        if (op === "Exists") return pc !== "";
        if (op === "DoesNotExist") return pc === "";
        if (op === "In") return values.includes(pc);
        if (op === "NotIn") return !values.includes(pc);
        return false;
      }
      default:
        return false;
    }
  };
  return scopes.every((s) => scope(s)) && exprs.every((e) => scope(String(e.scopeName), String(e.operator ?? "Exists"), asArr(e.values).map(String)));
}

/** `a=1,b=2` (sorted), as upstream prints resource lists in quota messages. */
export function prettyPrint(u: Usage): string {
  return [...u.keys()]
    .sort()
    .map((k) => `${k}=${formatQuantity(u.get(k)!)}`)
    .join(",");
}

export function usageToJson(u: Usage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...u.keys()].sort()) out[k] = formatQuantity(u.get(k)!);
  return out;
}

/** Pod compute resources a quota constrains that every container must then name (upstream podEvaluator.Constraints). */
export function missingPodResources(constrained: Iterable<string>, spec: PodSpec): string[] {
  const missing = new Set<string>();
  const need = [...constrained].filter((r) => ["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "requests.ephemeral-storage", "limits.ephemeral-storage"].includes(r));
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const res = asObj(c.resources) ?? {};
    for (const r of need) {
      const [kind, name] = r.includes(".") ? (r.split(".") as [string, string]) : ["requests", r];
      if (asObj(res[kind])?.[name] === undefined) missing.add(r);
    }
  }
  return [...missing].sort();
}
