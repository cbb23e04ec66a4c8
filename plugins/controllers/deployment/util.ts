/**
 * @module Deployment arithmetic and bookkeeping, pure functions (upstream
 * `pkg/controller/deployment/util`): revisions and replica annotations,
 * maxSurge/maxUnavailable resolution, the new-ReplicaSet size during a
 * rolling update, proportional scaling, status and conditions. The
 * reconciler (deployment-controller.ts) does the I/O around them.
 */
import type { Condition, Deployment, DeploymentStatus, ReplicaSet } from "../common/refs.ts";
import { rfc3339, timeOf } from "../common/refs.ts";
import { equalIgnoreHash } from "../common/semantic.ts";

export const REVISION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";
export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const ROLLBACK_TO = "deprecated.deployment.rollback.to";
/** Annotations never copied from a Deployment to its ReplicaSets. */
const NOT_COPIED = new Set([LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO]);
/** Longest revision-history annotation kept (upstream maxRevHistoryLengthInChars). */
export const MAX_REV_HISTORY_CHARS = 2000;

// Condition reasons, as `kubectl rollout status` and `describe` read them.
export const REASON = {
  newRSAvailable: "NewReplicaSetAvailable",
  rsUpdated: "ReplicaSetUpdated",
  newRSCreated: "NewReplicaSetCreated",
  foundNewRS: "FoundNewReplicaSet",
  timedOut: "ProgressDeadlineExceeded",
  paused: "DeploymentPaused",
  resumed: "DeploymentResumed",
  failedRSCreate: "ReplicaSetCreateError",
  minAvailable: "MinimumReplicasAvailable",
  minUnavailable: "MinimumReplicasUnavailable",
} as const;

export const replicas = (d: Deployment): number => d.spec?.replicas ?? 1;
export const rsReplicas = (rs: ReplicaSet | undefined): number => rs?.spec?.replicas ?? 0;

export function revisionOf(o: { metadata: { annotations?: Record<string, string> } } | undefined): number {
  const v = o?.metadata.annotations?.[REVISION];
  if (v === undefined) return 0;
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) ? 0 : n;
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? "RollingUpdate") === "RollingUpdate";
}

/** An int-or-percent against `total` (upstream GetScaledValueFromIntOrPercent). */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) {
    const n = Number(v);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(v)}`);
  }
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** maxSurge rounded up, maxUnavailable rounded down; both 0 means maxUnavailable 1 (upstream ResolveFenceposts). */
export function resolveFenceposts(d: Deployment): { surge: number; unavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const desired = replicas(d);
  const surge = scaledValue(ru.maxSurge ?? "25%", desired, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? "25%", desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? resolveFenceposts(d).surge : 0;
}

export function maxUnavailable(d: Deployment): number {
  if (!isRollingUpdate(d) || replicas(d) === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, replicas(d));
}

export const sumSpec = (rss: readonly ReplicaSet[]): number => rss.reduce((n, rs) => n + rsReplicas(rs), 0);
export const sumStatus = (rss: readonly ReplicaSet[], f: "replicas" | "readyReplicas" | "availableReplicas"): number =>
  rss.reduce((n, rs) => n + (rs.status?.[f] ?? 0), 0);

export const activeReplicaSets = (rss: readonly (ReplicaSet | undefined)[]): ReplicaSet[] =>
  rss.filter((rs): rs is ReplicaSet => rs !== undefined && rsReplicas(rs) > 0);

const created = (rs: ReplicaSet) => timeOf(rs.metadata.creationTimestamp) || 0;
/** Oldest first, then by name (upstream ReplicaSetsByCreationTimestamp). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  return created(a) - created(b) || (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0);
}
/** Larger first, newer first on ties (ReplicaSetsBySizeNewer). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return rsReplicas(b) - rsReplicas(a) || byCreation(b, a);
}
/** Larger first, older first on ties (ReplicaSetsBySizeOlder). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return rsReplicas(b) - rsReplicas(a) || byCreation(a, b);
}
/** Lower revision first, then older (ReplicaSetsByRevision). */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  return revisionOf(a) - revisionOf(b) || byCreation(a, b);
}

/** The oldest ReplicaSet whose template equals the Deployment's, ignoring the hash label (FindNewReplicaSet). */
export function findNewReplicaSet(d: Deployment, rss: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** The size the new ReplicaSet should have now (upstream NewRSNewReplicas). */
export function newRSNewReplicas(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet): number {
  if (!isRollingUpdate(d)) return replicas(d);
  const total = sumSpec(all);
  const maxTotal = replicas(d) + maxSurge(d);
  if (total >= maxTotal) return rsReplicas(newRS);
  const up = Math.min(maxTotal - total, replicas(d) - rsReplicas(newRS));
  return rsReplicas(newRS) + up;
}

/** Whether the ReplicaSet's desired/max replica annotations need setting (ReplicasAnnotationsNeedUpdate). */
export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata.annotations;
  return !a || a[DESIRED_REPLICAS] !== String(desired) || a[MAX_REPLICAS] !== String(max);
}

/** Sets the desired/max replica annotations on a ReplicaSet copy; true when they changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  if (!replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
  rs.metadata.annotations = { ...rs.metadata.annotations, [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(max) };
  return true;
}

function annotationInt(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata.annotations?.[key];
  if (v === undefined) return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) ? undefined : n;
}

/**
 * The new ReplicaSet annotations for `newRevision` (upstream
 * SetNewReplicaSetAnnotations), applied to `rs` (a private copy): the
 * Deployment's annotations are copied, the revision raised, and an old
 * revision this ReplicaSet carried (a rollback to it) appended to its
 * revision history. True when anything changed.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: number, exists: boolean): boolean {
  const ann: Record<string, string> = { ...rs.metadata.annotations };
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (NOT_COPIED.has(k) || ann[k] === v) continue;
    ann[k] = v;
    changed = true;
  }
  const oldRevision = ann[REVISION];
  const oldInt = oldRevision === undefined ? 0 : Number.parseInt(oldRevision, 10);
  if (!Number.isNaN(oldInt) && oldInt < newRevision) {
    ann[REVISION] = String(newRevision);
    changed = true;
    if (oldRevision !== undefined && oldRevision !== "") {
      const history = ann[REVISION_HISTORY];
      if (!history) ann[REVISION_HISTORY] = oldRevision;
      else {
        const parts = history.split(",");
        let len = history.length + oldRevision.length + 1;
        let start = 0;
        while (len > MAX_REV_HISTORY_CHARS && start < parts.length) len -= parts[start++]!.length + 1;
        if (len <= MAX_REV_HISTORY_CHARS) ann[REVISION_HISTORY] = [...parts.slice(start), oldRevision].join(",");
      }
    }
  }
  rs.metadata.annotations = ann;
  if (!exists && setReplicasAnnotations(rs, replicas(d), replicas(d) + maxSurge(d))) changed = true;
  return changed;
}

/** The highest revision among ReplicaSets (MaxRevision). */
export function maxRevision(rss: readonly ReplicaSet[]): number {
  return rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

// ---- scaling ------------------------------------------------------------------

/** The only ReplicaSet with pods, or the newest when none has any (FindActiveOrLatest); undefined when several have pods. */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const olds = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = activeReplicaSets([...olds, newRS]);
  if (active.length === 0) return newRS ?? olds[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** The new ReplicaSet runs every replica, all available, for the current size (IsSaturated). */
export function isSaturated(d: Deployment, newRS: ReplicaSet | undefined): boolean {
  if (!newRS) return false;
  const desired = annotationInt(newRS, DESIRED_REPLICAS);
  return desired === replicas(d) && rsReplicas(newRS) === replicas(d) && (newRS.status?.availableReplicas ?? 0) === replicas(d);
}

/**
 * How many replicas `rs` gains (or loses) when the Deployment is resized
 * during a rollout (upstream GetProportion / getReplicaSetFraction): its share
 * of the new size, by its fraction of the size it was last scaled for.
 */
export function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (replicas(d) === 0) return -rsReplicas(rs);
  const deploymentReplicas = replicas(d) + maxSurge(d);
  const annotated = annotationInt(rs, MAX_REPLICAS) ?? d.status?.replicas ?? 0;
  if (annotated === 0) return 0;
  // Go's math.Round: half away from zero.
  const size = (rsReplicas(rs) * deploymentReplicas) / annotated;
  return Math.sign(size) * Math.round(Math.abs(size)) - rsReplicas(rs);
}

/**
 * New sizes for the active ReplicaSets of a rolling Deployment whose size
 * changed mid-rollout (the proportional part of upstream `scale`): each gets
 * its share of the difference, leftovers go to the largest.
 */
export function proportionalSizes(d: Deployment, active: readonly ReplicaSet[]): Map<ReplicaSet, number> {
  const allowed = replicas(d) > 0 ? replicas(d) + maxSurge(d) : 0;
  const toAdd = allowed - sumSpec(active);
  const sorted = [...active].sort(toAdd > 0 ? bySizeNewer : bySizeOlder);
  const sizes = new Map<ReplicaSet, number>();
  let added = 0;
  for (const rs of sorted) {
    if (toAdd !== 0) {
      const p = proportion(rs, d, toAdd, added);
      sizes.set(rs, rsReplicas(rs) + p);
      added += p;
    } else sizes.set(rs, rsReplicas(rs));
  }
  if (sorted.length > 0 && toAdd !== 0) {
    const first = sorted[0]!;
    sizes.set(first, Math.max(0, sizes.get(first)! + toAdd - added));
  }
  return sizes;
}

/** Whether the Deployment was resized since its ReplicaSets were last sized (isScalingEvent). */
export function isScalingEvent(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): boolean {
  for (const rs of activeReplicaSets([...oldRSs, newRS])) {
    const desired = annotationInt(rs, DESIRED_REPLICAS);
    if (desired !== undefined && desired !== replicas(d)) return true;
  }
  return false;
}

// ---- status and conditions -------------------------------------------------------

export function getCondition(s: DeploymentStatus | undefined, type: string): Condition | undefined {
  return s?.conditions?.find((c) => c.type === type);
}

export function newCondition(type: string, status: Condition["status"], reason: string, message: string, now: number): Condition {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** Sets a condition; same status and reason leave it untouched, same status keeps its transition time (SetDeploymentCondition). */
export function setCondition(s: DeploymentStatus, c: Condition): void {
  const cur = getCondition(s, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  const next = cur && cur.status === c.status ? { ...c, lastTransitionTime: cur.lastTransitionTime! } : c;
  s.conditions = [...(s.conditions ?? []).filter((x) => x.type !== c.type), next];
}

export function removeCondition(s: DeploymentStatus, type: string): void {
  if (!s.conditions) return;
  s.conditions = s.conditions.filter((c) => c.type !== type);
  if (s.conditions.length === 0) delete s.conditions;
}

export function hasProgressDeadline(d: Deployment): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return p !== undefined && p !== null && p !== 2147483647;
}

/** Status from the ReplicaSets (upstream calculateStatus), conditions carried over plus Available. */
export function calculateStatus(all: readonly ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment, now: number): DeploymentStatus {
  const available = sumStatus(all, "availableReplicas");
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: sumStatus(all, "replicas"),
    updatedReplicas: newRS ? (newRS.status?.replicas ?? 0) : 0,
    readyReplicas: sumStatus(all, "readyReplicas"),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sumSpec(all) - available),
    ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
    ...(d.status?.conditions ? { conditions: d.status.conditions.map((c) => ({ ...c })) } : {}),
  };
  if (available >= replicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition("Available", "True", REASON.minAvailable, "Deployment has minimum availability.", now));
  } else {
    setCondition(status, newCondition("Available", "False", REASON.minUnavailable, "Deployment does not have minimum availability.", now));
  }
  return status;
}

/** Every replica updated, available, and the latest generation observed (DeploymentComplete). */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const n = replicas(d);
  return (s.updatedReplicas ?? 0) === n && (s.replicas ?? 0) === n && (s.availableReplicas ?? 0) === n && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** Progress since the last status: more updated, fewer old, more ready or more available (DeploymentProgressing). */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const o = d.status ?? {};
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0)
  );
}

/** The Progressing condition's last update is older than progressDeadlineSeconds (DeploymentTimedOut). */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, "Progressing");
  if (!c) return false;
  if (c.reason === REASON.newRSAvailable) return false;
  if (c.reason === REASON.timedOut) return true;
  const from = timeOf(c.lastUpdateTime);
  return !Number.isNaN(from) && from + d.spec!.progressDeadlineSeconds! * 1000 < now;
}

/** Whether two statuses are the same (key order and absent/empty aside). */
export function sameStatus(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  const n = (s: DeploymentStatus | undefined) =>
    JSON.stringify([
      s?.observedGeneration ?? 0,
      s?.replicas ?? 0,
      s?.updatedReplicas ?? 0,
      s?.readyReplicas ?? 0,
      s?.availableReplicas ?? 0,
      s?.unavailableReplicas ?? 0,
      s?.collisionCount ?? null,
      (s?.conditions ?? []).map((c) => [c.type, c.status, c.reason ?? "", c.message ?? "", c.lastUpdateTime ?? "", c.lastTransitionTime ?? ""]),
    ]);
  return n(a) === n(b);
}
