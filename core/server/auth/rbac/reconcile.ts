/**
 * @module Bootstrap-policy reconciliation: upstream's storage_rbac post-start
 * hook (`rbac/bootstrap-roles`) with `reconciliation.ReconcileRoleOptions`
 * and `ReconcileRoleBindingOptions` as kube-apiserver runs them (confirm,
 * never remove extra permissions or subjects).
 *
 * For each default ClusterRole and ClusterRoleBinding: create it when
 * absent; leave it alone when annotated `autoupdate: "false"`; otherwise add
 * the missing labels and annotations (existing values win), the rules the
 * existing role does not cover (`validation.Covers`, as atomic rules), the
 * missing aggregation selectors, and the missing subjects; a binding whose
 * roleRef changed is deleted and recreated. Idempotent: a second run writes
 * nothing. Aggregated roles it creates (admin, edit, view on a new cluster)
 * are created with their aggregated rules already filled in, so a fresh
 * kernel is complete when it starts and writes nothing afterwards.
 */
import { isApiError } from "../../../api/errors.ts";
import type { KubeObject } from "../../../api/meta.ts";
import type { Client } from "../../../client/types.ts";
import type { Logger } from "../../../log.ts";
import { AUTO_UPDATE_ANNOTATION, clusterRoleBindings, clusterRoles, type ClusterRoleBindingObject, type ClusterRoleObject } from "./bootstrap-policy.ts";
import { aggregatedRules } from "./aggregation.ts";
import { CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES } from "./authorizer.ts";
import type { PolicyRule, Subject } from "./rules.ts";

/** BreakdownRule: one rule per (group, resource, verb[, name]) and per (url, verb). */
export function breakdownRule(r: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const g of r.apiGroups ?? []) {
    for (const res of r.resources ?? []) {
      for (const v of r.verbs ?? []) {
        if ((r.resourceNames ?? []).length > 0) for (const n of r.resourceNames!) out.push({ apiGroups: [g], resources: [res], verbs: [v], resourceNames: [n] });
        else out.push({ apiGroups: [g], resources: [res], verbs: [v] });
      }
    }
  }
  for (const u of r.nonResourceURLs ?? []) for (const v of r.verbs ?? []) out.push({ nonResourceURLs: [u], verbs: [v] });
  return out;
}

const hasAll = (set: readonly string[], want: readonly string[]) => want.every((w) => set.includes(w));

function resourceCoversAll(set: readonly string[], want: readonly string[]): boolean {
  if (set.includes("*") || hasAll(set, want)) return true;
  for (const p of want) {
    if (set.includes(p)) continue;
    const slash = p.indexOf("/");
    if (slash < 0) return false;
    if (!set.includes(`*/${p.slice(slash + 1)}`)) return false;
  }
  return true;
}

function nonResourceURLCovers(owner: string, sub: string): boolean {
  if (owner === sub) return true;
  return owner.endsWith("*") && sub.startsWith(owner.replace(/\*+$/, ""));
}

/** ruleCovers: whether `owner` grants everything `sub` does. */
export function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const ov = owner.verbs ?? [];
  const og = owner.apiGroups ?? [];
  const on = owner.resourceNames ?? [];
  const sn = sub.resourceNames ?? [];
  const verbs = ov.includes("*") || hasAll(ov, sub.verbs ?? []);
  const groups = og.includes("*") || hasAll(og, sub.apiGroups ?? []);
  const resources = resourceCoversAll(owner.resources ?? [], sub.resources ?? []);
  const urls = (sub.nonResourceURLs ?? []).every((p) => (owner.nonResourceURLs ?? []).some((o) => nonResourceURLCovers(o, p)));
  const names = sn.length === 0 ? on.length === 0 : on.length === 0 || hasAll(on, sn);
  return verbs && groups && resources && names && urls;
}

/** Covers: the atomic rules of `servant` that no rule of `owner` covers. */
export function uncoveredRules(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): PolicyRule[] {
  return servant.flatMap(breakdownRule).filter((sub) => !owner.some((o) => ruleCovers(o, sub)));
}

function mergeMaps(expected: Record<string, string> | undefined, existing: Record<string, string> | undefined): Record<string, string> {
  return { ...(expected ?? {}), ...(existing ?? {}) };
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ak = Object.keys(a ?? {});
  return ak.length === Object.keys(b ?? {}).length && ak.every((k) => (a ?? {})[k] === (b ?? {})[k]);
}

const protectedFromUpdate = (o: KubeObject) => o.metadata.annotations?.[AUTO_UPDATE_ANNOTATION] === "false";

/** The reconciled role, or undefined when nothing needs to change. */
export function reconcileRole(existing: ClusterRoleObject, expected: ClusterRoleObject): ClusterRoleObject | undefined {
  if (protectedFromUpdate(existing)) return undefined;
  const out = structuredClone(existing) as ClusterRoleObject;
  let changed = false;
  const labels = mergeMaps(expected.metadata.labels, existing.metadata.labels);
  const annotations = mergeMaps(expected.metadata.annotations, existing.metadata.annotations);
  if (!sameMap(labels, existing.metadata.labels)) (out.metadata.labels = labels), (changed = true);
  if (!sameMap(annotations, existing.metadata.annotations)) (out.metadata.annotations = annotations), (changed = true);
  const missing = uncoveredRules(existing.rules ?? [], expected.rules ?? []);
  if (missing.length > 0) {
    out.rules = [...(existing.rules ?? []), ...missing];
    changed = true;
  }
  if (expected.aggregationRule) {
    const have = existing.aggregationRule?.clusterRoleSelectors ?? [];
    const missingSelectors = expected.aggregationRule.clusterRoleSelectors.filter((want) => !have.some((h) => JSON.stringify(h) === JSON.stringify(want)));
    if (missingSelectors.length > 0) {
      out.aggregationRule = { clusterRoleSelectors: [...have, ...missingSelectors] };
      changed = true;
    }
  }
  return changed ? out : undefined;
}

const sameSubject = (a: Subject, b: Subject) => a.kind === b.kind && a.name === b.name && (a.namespace ?? "") === (b.namespace ?? "");

/** `recreate` when the roleRef differs; `update` with the merged binding; undefined when nothing changes. */
export function reconcileBinding(
  existing: ClusterRoleBindingObject,
  expected: ClusterRoleBindingObject,
): { op: "recreate" | "update"; binding: ClusterRoleBindingObject } | undefined {
  if (protectedFromUpdate(existing)) return undefined;
  const ref = existing.roleRef ?? { kind: "", name: "" };
  if (ref.kind !== expected.roleRef.kind || ref.name !== expected.roleRef.name || (ref.apiGroup ?? "") !== (expected.roleRef.apiGroup ?? "")) {
    const merged = structuredClone(expected);
    merged.subjects = [...(existing.subjects ?? []), ...(expected.subjects ?? []).filter((s) => !(existing.subjects ?? []).some((e) => sameSubject(e, s)))];
    if (merged.subjects.length === 0) delete merged.subjects;
    return { op: "recreate", binding: merged };
  }
  const out = structuredClone(existing) as ClusterRoleBindingObject;
  let changed = false;
  const labels = mergeMaps(expected.metadata.labels, existing.metadata.labels);
  const annotations = mergeMaps(expected.metadata.annotations, existing.metadata.annotations);
  if (!sameMap(labels, existing.metadata.labels)) (out.metadata.labels = labels), (changed = true);
  if (!sameMap(annotations, existing.metadata.annotations)) (out.metadata.annotations = annotations), (changed = true);
  const missing = (expected.subjects ?? []).filter((s) => !(existing.subjects ?? []).some((e) => sameSubject(e, s)));
  if (missing.length > 0) {
    out.subjects = [...(existing.subjects ?? []), ...missing];
    changed = true;
  }
  return changed ? { op: "update", binding: out } : undefined;
}

/**
 * The default roles with the rules the aggregation controller would give the
 * aggregated ones that are about to be created (a fixed point over chains
 * such as view → edit → admin), so a new cluster starts complete and the
 * controller has nothing to write. Roles that already exist are left to the
 * controller.
 */
function withAggregatedRules(expected: ClusterRoleObject[], existing: readonly ClusterRoleObject[]): ClusterRoleObject[] {
  const have = new Set(existing.map((r) => r.metadata.name));
  const universe = new Map<string, ClusterRoleObject>(existing.map((r) => [r.metadata.name!, r]));
  const out = expected.map((r) => (have.has(r.metadata.name) ? r : structuredClone(r)));
  for (const r of out) if (!have.has(r.metadata.name)) universe.set(r.metadata.name!, r);
  for (let round = 0; round < 10; round++) {
    let changed = false;
    for (const r of out) {
      if (have.has(r.metadata.name) || !r.aggregationRule) continue;
      const rules = aggregatedRules(r, [...universe.values()]) ?? [];
      if (JSON.stringify(rules) !== JSON.stringify(r.rules ?? [])) {
        r.rules = rules;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return out;
}

export interface ReconcileSummary {
  created: string[];
  updated: string[];
  recreated: string[];
}

/**
 * Ensures the default ClusterRoles and ClusterRoleBindings exist and cover
 * upstream's. Writes through `client` (the in-process admin). Conflicting
 * concurrent writers are retried a few times; other errors reject.
 */
export async function reconcileBootstrapPolicy(client: Client, log?: Logger): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { created: [], updated: [], recreated: [] };
  const [roles, bindings] = await Promise.all([
    client.list<ClusterRoleObject>(CLUSTER_ROLES),
    client.list<ClusterRoleBindingObject>(CLUSTER_ROLE_BINDINGS),
  ]);
  const roleByName = new Map(roles.items.map((r) => [r.metadata.name!, r]));
  const bindingByName = new Map(bindings.items.map((b) => [b.metadata.name!, b]));
  const expectedRoles = withAggregatedRules(clusterRoles(), roles.items);

  const ensureRole = async (expected: ClusterRoleObject): Promise<void> => {
    const name = expected.metadata.name!;
    let existing = roleByName.get(name);
    for (let attempt = 0; ; attempt++) {
      try {
        if (!existing) {
          await client.create(CLUSTER_ROLES, expected);
          summary.created.push(`clusterrole/${name}`);
          return;
        }
        const next = reconcileRole(existing, expected);
        if (!next) return;
        await client.update(CLUSTER_ROLES, next);
        summary.updated.push(`clusterrole/${name}`);
        return;
      } catch (e) {
        if (attempt >= 4 || !(isApiError(e, "Conflict") || isApiError(e, "AlreadyExists"))) throw e;
        existing = await client.get<ClusterRoleObject>(CLUSTER_ROLES, name).catch((err: unknown) => {
          if (isApiError(err, "NotFound")) return undefined;
          throw err;
        });
      }
    }
  };

  const ensureBinding = async (expected: ClusterRoleBindingObject): Promise<void> => {
    const name = expected.metadata.name!;
    let existing = bindingByName.get(name);
    for (let attempt = 0; ; attempt++) {
      try {
        if (!existing) {
          await client.create(CLUSTER_ROLE_BINDINGS, expected);
          summary.created.push(`clusterrolebinding/${name}`);
          return;
        }
        const next = reconcileBinding(existing, expected);
        if (!next) return;
        if (next.op === "recreate") {
          await client.delete(CLUSTER_ROLE_BINDINGS, name, { preconditions: { uid: existing.metadata.uid! } });
          const { resourceVersion: _rv, uid: _uid, ...meta } = next.binding.metadata;
          await client.create(CLUSTER_ROLE_BINDINGS, { ...next.binding, metadata: meta });
          summary.recreated.push(`clusterrolebinding/${name}`);
          return;
        }
        await client.update(CLUSTER_ROLE_BINDINGS, next.binding);
        summary.updated.push(`clusterrolebinding/${name}`);
        return;
      } catch (e) {
        if (attempt >= 4 || !(isApiError(e, "Conflict") || isApiError(e, "AlreadyExists") || isApiError(e, "NotFound"))) throw e;
        existing = await client.get<ClusterRoleBindingObject>(CLUSTER_ROLE_BINDINGS, name).catch((err: unknown) => {
          if (isApiError(err, "NotFound")) return undefined;
          throw err;
        });
      }
    }
  };

  await Promise.all([...expectedRoles.map(ensureRole), ...clusterRoleBindings().map(ensureBinding)]);
  if (summary.created.length + summary.updated.length + summary.recreated.length > 0) {
    log?.info({ created: summary.created.length, updated: summary.updated, recreated: summary.recreated }, "rbac bootstrap policy reconciled");
  }
  return summary;
}
