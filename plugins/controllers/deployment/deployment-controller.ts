/**
 * @module The Deployment controller (upstream `pkg/controller/deployment`).
 *
 * Per Deployment key: claim its ReplicaSets (adopt/release by selector),
 * then, as upstream `syncDeployment`: a terminating Deployment only gets its
 * status synced; a paused one or one resized mid-rollout is only scaled
 * (proportionally across its ReplicaSets); otherwise it rolls out —
 * RollingUpdate (bounded by maxSurge/maxUnavailable) or Recreate — then
 * cleans up old ReplicaSets beyond revisionHistoryLimit and writes status
 * and the Available/Progressing conditions `kubectl rollout status` reads,
 * including ProgressDeadlineExceeded.
 *
 * The new ReplicaSet is the oldest whose template equals the Deployment's
 * semantically (semantic.ts), so `kubectl rollout undo` finds the old one
 * again; otherwise `<name>-<pod-template-hash>` is created. Revisions go on
 * the ReplicaSets and the Deployment as annotations.
 */
import { isApiError } from "../../../core/api/errors.ts";
import { splitKey } from "../../../core/client/keys.ts";
import type { Client, Informer, Reconciler, ReconcileResult } from "../../../core/client/types.ts";
import type { Logger } from "../../../core/log.ts";
import type { EventSink } from "../../../core/plugin/types.ts";
import { CONTROLLER_UID_INDEX, ORPHANS_INDEX } from "../common/informers.ts";
import { claim, controllerRefOf, newControllerRef, recheckOwner } from "../common/owner-refs.ts";
import { type Deployment, DEPLOYMENTS, type DeploymentStatus, isNamespaceTerminating, type Pod, REPLICA_SETS, type ReplicaSet, timeOf } from "../common/refs.ts";
import { isEmptySelector, selectorOf } from "../common/selectors.ts";
import { computeHash, POD_TEMPLATE_HASH_LABEL } from "../common/semantic.ts";
import {
  activeReplicaSets,
  byCreation,
  byRevision,
  calculateStatus,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  findActiveOrLatest,
  findNewReplicaSet,
  getCondition,
  hasProgressDeadline,
  isRollingUpdate,
  isSaturated,
  isScalingEvent,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  proportionalSizes,
  REASON,
  removeCondition,
  replicas,
  replicasAnnotationsNeedUpdate,
  REVISION,
  rsReplicas,
  sameStatus,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  sumSpec,
  sumStatus,
} from "./util.ts";

export interface DeploymentControllerDeps {
  client: Client;
  events: EventSink;
  log: Logger;
  deployments: Informer<Deployment>;
  replicaSets: Informer<ReplicaSet>;
  pods: Informer<Pod>;
  now?: () => number;
}

/** One reconcile's view: the Deployment (a private copy, updated as we write) and its ReplicaSets. */
interface Sync {
  d: Deployment;
  rss: ReplicaSet[];
}

export class DeploymentReconciler implements Reconciler {
  readonly name = "deployment";
  readonly #x: DeploymentControllerDeps;
  readonly #now: () => number;
  /** Set once the server has been seen dropping the revision annotation from a status write (no retry loop). */
  #revisionDropped = false;

  constructor(deps: DeploymentControllerDeps) {
    this.#x = deps;
    this.#now = deps.now ?? Date.now;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const cached = this.#x.deployments.get(name, namespace);
    if (!cached) return;
    const s: Sync = { d: structuredClone(cached), rss: [] };
    if (isEmptySelector(s.d.spec?.selector)) {
      this.#x.events.record(s.d, "Warning", "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.");
      if ((s.d.status?.observedGeneration ?? 0) < (s.d.metadata.generation ?? 0)) {
        await this.#writeStatus(s, { ...s.d.status, observedGeneration: s.d.metadata.generation ?? 0 });
      }
      return;
    }
    s.rss = await this.#claimReplicaSets(s.d);
    if (s.d.metadata.deletionTimestamp !== undefined) {
      const { newRS, oldRSs } = await this.#newAndOld(s, false);
      await this.#syncStatus(s, newRS, oldRSs);
      return;
    }
    await this.#checkPausedConditions(s);
    if (s.d.spec?.paused) return this.#scaleOnly(s);
    const split = await this.#newAndOld(s, false);
    if (isScalingEvent(s.d, split.newRS, split.oldRSs)) return this.#scaleOnly(s);
    return isRollingUpdate(s.d) ? this.#rolling(s) : this.#recreate(s);
  }

  // ---- ReplicaSets ------------------------------------------------------------

  async #claimReplicaSets(d: Deployment): Promise<ReplicaSet[]> {
    const x = this.#x;
    const selector = selectorOf(d, d.spec?.selector);
    const candidates = [...x.replicaSets.byIndex(CONTROLLER_UID_INDEX, d.metadata.uid!)];
    for (const rs of x.replicaSets.byIndex(ORPHANS_INDEX, d.metadata.namespace!)) if (selector.matches(rs.metadata.labels)) candidates.push(rs);
    const r = await claim({
      client: x.client,
      ref: REPLICA_SETS,
      owner: d,
      selector,
      candidates,
      canAdopt: () => recheckOwner(x.client, DEPLOYMENTS, d),
    });
    if (r.error !== undefined) throw r.error;
    return r.claimed;
  }

  #replace(s: Sync, rs: ReplicaSet): ReplicaSet {
    const i = s.rss.findIndex((x) => x.metadata.uid === rs.metadata.uid);
    if (i >= 0) s.rss[i] = rs;
    else s.rss.push(rs);
    return rs;
  }

  /**
   * The new ReplicaSet (created when `create` and missing) and the old ones,
   * with revisions synced (upstream getAllReplicaSetsAndSyncRevision).
   */
  async #newAndOld(s: Sync, create: boolean): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const existing = findNewReplicaSet(s.d, s.rss);
    const oldRSs = s.rss.filter((rs) => rs !== existing);
    const newRS = await this.#newReplicaSet(s, existing, oldRSs, create);
    return { newRS, oldRSs: s.rss.filter((rs) => rs.metadata.uid !== newRS?.metadata.uid) };
  }

  async #newReplicaSet(s: Sync, existing: ReplicaSet | undefined, oldRSs: ReplicaSet[], create: boolean): Promise<ReplicaSet | undefined> {
    const x = this.#x;
    const now = this.#now();
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing) {
      const copy: ReplicaSet = structuredClone(existing);
      const annotationsChanged = setNewReplicaSetAnnotations(s.d, copy, newRevision, true);
      const minReady = s.d.spec?.minReadySeconds ?? 0;
      if (annotationsChanged || (copy.spec?.minReadySeconds ?? 0) !== minReady) {
        copy.spec = { ...copy.spec, minReadySeconds: minReady };
        return this.#replace(s, await x.client.update(REPLICA_SETS, copy));
      }
      const status: DeploymentStatus = structuredClone(s.d.status ?? {});
      let statusChanged = false;
      if (hasProgressDeadline(s.d) && !getCondition(status, "Progressing")) {
        setCondition(status, newCondition("Progressing", "True", REASON.foundNewRS, `Found new replica set "${copy.metadata.name}"`, now));
        statusChanged = true;
      }
      await this.#syncRevision(s, copy.metadata.annotations?.[REVISION], statusChanged ? status : undefined);
      return copy;
    }
    if (!create) return undefined;

    const template = structuredClone(s.d.spec!.template ?? {});
    const hash = computeHash(template, s.d.status?.collisionCount);
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash } };
    const sel = s.d.spec!.selector ?? {};
    const rs: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: `${s.d.metadata.name}-${hash}`,
        namespace: s.d.metadata.namespace!,
        labels: template.metadata.labels!,
        ownerReferences: [newControllerRef({ ...s.d, apiVersion: "apps/v1", kind: "Deployment" })],
      },
      spec: {
        replicas: 0,
        minReadySeconds: s.d.spec?.minReadySeconds ?? 0,
        selector: { ...sel, matchLabels: { ...sel.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash } },
        template,
      },
    };
    rs.spec!.replicas = newRSNewReplicas(s.d, [...oldRSs, rs], rs);
    setNewReplicaSetAnnotations(s.d, rs, newRevision, false);
    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = await x.client.create<ReplicaSet>(REPLICA_SETS, rs);
    } catch (e) {
      if (isApiError(e, "AlreadyExists")) {
        const found = await x.client.get<ReplicaSet>(REPLICA_SETS, rs.metadata.name!, { namespace: rs.metadata.namespace! });
        const ref = controllerRefOf(found);
        if (ref?.uid === s.d.metadata.uid && findNewReplicaSet(s.d, [found])) {
          created = found;
          alreadyExists = true;
        } else {
          // A hash collision: another object has this name. Bump collisionCount and retry with a new hash.
          const status = { ...structuredClone(s.d.status ?? {}), collisionCount: (s.d.status?.collisionCount ?? 0) + 1 };
          await this.#writeStatus(s, status);
          x.log.info({ deployment: s.d.metadata.name, collisionCount: status.collisionCount }, "hash collision; bumping collisionCount");
          throw e;
        }
      } else {
        if (isNamespaceTerminating(e)) throw e;
        const msg = `Failed to create new replica set "${rs.metadata.name}": ${(e as Error).message}`;
        if (hasProgressDeadline(s.d)) {
          const status = structuredClone(s.d.status ?? {});
          setCondition(status, newCondition("Progressing", "False", REASON.failedRSCreate, msg, now));
          await this.#writeStatus(s, status).catch(() => undefined);
        }
        x.events.record(s.d, "Warning", REASON.failedRSCreate, msg);
        throw e;
      }
    }
    this.#replace(s, created);
    const n = rsReplicas(created);
    if (!alreadyExists && n > 0) x.events.record(s.d, "Normal", "ScalingReplicaSet", `Scaled up replica set ${created.metadata.name} from 0 to ${n}`);
    let status: DeploymentStatus | undefined;
    if (!alreadyExists && hasProgressDeadline(s.d)) {
      status = structuredClone(s.d.status ?? {});
      setCondition(status, newCondition("Progressing", "True", REASON.newRSCreated, `Created new replica set "${created.metadata.name}"`, now));
    }
    await this.#syncRevision(s, String(newRevision), status);
    return created;
  }

  /**
   * Puts the revision annotation on the Deployment, in one status write with
   * `status` (or the current status), as upstream does: through the status
   * subresource, so the Deployment's generation does not move. (Skiff's API
   * keeps only `status` from a status write today, so the annotation is not
   * stored until it keeps metadata changes there too — see ../README.md.)
   */
  async #syncRevision(s: Sync, revision: string | undefined, status: DeploymentStatus | undefined): Promise<void> {
    const annotate = revision !== undefined && s.d.metadata.annotations?.[REVISION] !== revision && !this.#revisionDropped;
    if (!annotate && !status) return;
    const body: Deployment = {
      ...s.d,
      metadata: annotate ? { ...s.d.metadata, annotations: { ...s.d.metadata.annotations, [REVISION]: revision! } } : s.d.metadata,
      status: status ?? s.d.status ?? {},
    };
    s.d = await this.#x.client.updateStatus<Deployment>(DEPLOYMENTS, body);
    if (annotate && s.d.metadata.annotations?.[REVISION] !== revision) {
      this.#revisionDropped = true;
      this.#x.log.info("the API server does not keep annotations written through deployments/status; Deployments will not carry the revision annotation");
    }
  }

  /** Resizes a ReplicaSet and refreshes its replica annotations (scaleReplicaSet); records an event when the size changed. */
  async #scale(s: Sync, rs: ReplicaSet, size: number, op: "up" | "down" | "proportionally"): Promise<ReplicaSet> {
    const desired = replicas(s.d);
    const max = desired + maxSurge(s.d);
    const resize = rsReplicas(rs) !== size;
    if (!resize && !replicasAnnotationsNeedUpdate(rs, desired, max)) return rs;
    const copy: ReplicaSet = structuredClone(rs);
    copy.spec = { ...copy.spec, replicas: size };
    setReplicasAnnotations(copy, desired, max);
    const updated = this.#replace(s, await this.#x.client.update(REPLICA_SETS, copy));
    if (resize) {
      const how = op === "proportionally" ? (size > rsReplicas(rs) ? "up" : "down") : op;
      this.#x.events.record(s.d, "Normal", "ScalingReplicaSet", `Scaled ${how} replica set ${rs.metadata.name} from ${rsReplicas(rs)} to ${size}`);
    }
    return updated;
  }

  // ---- strategies ----------------------------------------------------------------

  /** Paused or resized: only scale (upstream `sync`), then status. */
  async #scaleOnly(s: Sync): Promise<ReconcileResult | void> {
    let { newRS, oldRSs } = await this.#newAndOld(s, false);
    await this.#scaleAll(s, newRS, oldRSs);
    ({ newRS, oldRSs } = this.#current(s, newRS));
    if (s.d.spec?.paused) await this.#cleanup(s, oldRSs);
    await this.#syncStatus(s, newRS, oldRSs);
  }

  #current(s: Sync, newRS: ReplicaSet | undefined): { newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] } {
    const uid = newRS?.metadata.uid;
    return { newRS: s.rss.find((r) => r.metadata.uid === uid), oldRSs: s.rss.filter((r) => r.metadata.uid !== uid) };
  }

  /** Upstream `scale`: one active ReplicaSet takes the new size; during a rollout the change is shared proportionally. */
  async #scaleAll(s: Sync, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const d = s.d;
    const target = findActiveOrLatest(newRS, oldRSs);
    if (target) {
      if (rsReplicas(target) !== replicas(d) || replicasAnnotationsNeedUpdate(target, replicas(d), replicas(d) + maxSurge(d))) {
        await this.#scale(s, target, replicas(d), rsReplicas(target) < replicas(d) ? "up" : "down");
      }
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of activeReplicaSets(oldRSs)) await this.#scale(s, old, 0, "down");
      return;
    }
    if (!isRollingUpdate(d)) return;
    const sizes = proportionalSizes(d, activeReplicaSets([...oldRSs, newRS]));
    for (const [rs, size] of sizes) await this.#scale(s, rs, size, "proportionally");
  }

  async #rolling(s: Sync): Promise<ReconcileResult | void> {
    let { newRS, oldRSs } = await this.#newAndOld(s, true);
    // Scale up the new ReplicaSet within maxSurge.
    if (newRS && rsReplicas(newRS) !== replicas(s.d)) {
      const target = rsReplicas(newRS) > replicas(s.d) ? replicas(s.d) : newRSNewReplicas(s.d, s.rss, newRS);
      if (target !== rsReplicas(newRS)) {
        await this.#scale(s, newRS, target, target > rsReplicas(newRS) ? "up" : "down");
        ({ newRS, oldRSs } = this.#current(s, newRS));
        return this.#syncRolloutStatus(s, newRS, oldRSs);
      }
    }
    // Scale down old ReplicaSets within maxUnavailable.
    if (await this.#reconcileOld(s, newRS, oldRSs)) {
      ({ newRS, oldRSs } = this.#current(s, newRS));
      return this.#syncRolloutStatus(s, newRS, oldRSs);
    }
    if (deploymentComplete(s.d, s.d.status ?? {})) await this.#cleanup(s, oldRSs);
    ({ newRS, oldRSs } = this.#current(s, newRS));
    return this.#syncRolloutStatus(s, newRS, oldRSs);
  }

  /** Upstream reconcileOldReplicaSets: unhealthy old replicas first, then healthy ones down to minAvailable. */
  async #reconcileOld(s: Sync, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<boolean> {
    const d = s.d;
    if (sumSpec(oldRSs) === 0) return false;
    const all = s.rss;
    const minAvailable = replicas(d) - maxUnavailable(d);
    const newUnavailable = rsReplicas(newRS) - (newRS?.status?.availableReplicas ?? 0);
    const maxScaledDown = sumSpec(all) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    let cleaned = 0;
    for (const rs of activeReplicaSets(oldRSs).sort(byCreation)) {
      if (cleaned >= maxScaledDown) break;
      const unhealthy = rsReplicas(rs) - (rs.status?.availableReplicas ?? 0);
      if (unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      await this.#scale(s, rs, rsReplicas(rs) - down, "down");
      cleaned += down;
    }
    // Healthy old replicas, as long as availability stays at minAvailable.
    const olds = this.#current(s, newRS).oldRSs;
    const available = sumStatus(s.rss, "availableReplicas");
    let scaled = 0;
    if (available > minAvailable) {
      const total = available - minAvailable;
      for (const rs of activeReplicaSets(olds).sort(byCreation)) {
        if (scaled >= total) break;
        const down = Math.min(rsReplicas(rs), total - scaled);
        await this.#scale(s, rs, rsReplicas(rs) - down, "down");
        scaled += down;
      }
    }
    return cleaned + scaled > 0;
  }

  async #recreate(s: Sync): Promise<ReconcileResult | void> {
    let { newRS, oldRSs } = await this.#newAndOld(s, false);
    let scaledDown = false;
    for (const rs of activeReplicaSets(oldRSs)) {
      await this.#scale(s, rs, 0, "down");
      scaledDown = true;
    }
    if (scaledDown) {
      ({ newRS, oldRSs } = this.#current(s, newRS));
      return this.#syncRolloutStatus(s, newRS, oldRSs);
    }
    if (this.#oldPodsRunning(newRS, oldRSs)) return this.#syncRolloutStatus(s, newRS, oldRSs);
    if (!newRS) ({ newRS, oldRSs } = await this.#newAndOld(s, true));
    if (newRS && rsReplicas(newRS) !== replicas(s.d)) {
      await this.#scale(s, newRS, replicas(s.d), rsReplicas(newRS) < replicas(s.d) ? "up" : "down");
    }
    ({ newRS, oldRSs } = this.#current(s, newRS));
    if (deploymentComplete(s.d, s.d.status ?? {})) await this.#cleanup(s, oldRSs);
    ({ newRS, oldRSs } = this.#current(s, newRS));
    return this.#syncRolloutStatus(s, newRS, oldRSs);
  }

  /** Any pod of an old ReplicaSet that is not finished (upstream oldPodsRunning). */
  #oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): boolean {
    if (sumStatus(oldRSs, "replicas") > 0) return true;
    for (const rs of oldRSs) {
      if (rs.metadata.uid === newRS?.metadata.uid) continue;
      for (const p of this.#x.pods.byIndex(CONTROLLER_UID_INDEX, rs.metadata.uid!)) {
        const phase = p.status?.phase;
        if (phase !== "Failed" && phase !== "Succeeded") return true;
      }
    }
    return false;
  }

  /** Deletes the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit (cleanupDeployment). */
  async #cleanup(s: Sync, oldRSs: ReplicaSet[]): Promise<void> {
    const limit = s.d.spec?.revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const cleanable = oldRSs.filter((rs) => rs.metadata.deletionTimestamp === undefined).sort(byRevision);
    const diff = cleanable.length - limit;
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i]!;
      if ((rs.status?.replicas ?? 0) !== 0 || rsReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await this.#x.client.delete(REPLICA_SETS, rs.metadata.name!, { namespace: rs.metadata.namespace!, preconditions: { uid: rs.metadata.uid! } });
      } catch (e) {
        if (!isApiError(e, "NotFound") && !isApiError(e, "Conflict")) throw e;
      }
      s.rss = s.rss.filter((x) => x.metadata.uid !== rs.metadata.uid);
    }
  }

  // ---- status ----------------------------------------------------------------------

  /** Paused/Resumed on the Progressing condition, unless it has timed out (checkPausedConditions). */
  async #checkPausedConditions(s: Sync): Promise<void> {
    if (!hasProgressDeadline(s.d)) return;
    const cond = getCondition(s.d.status, "Progressing");
    if (cond?.reason === REASON.timedOut) return;
    const pausedCond = cond?.reason === REASON.paused;
    const status = structuredClone(s.d.status ?? {});
    const now = this.#now();
    if (s.d.spec?.paused && !pausedCond) setCondition(status, newCondition("Progressing", "Unknown", REASON.paused, "Deployment is paused", now));
    else if (!s.d.spec?.paused && pausedCond) setCondition(status, newCondition("Progressing", "Unknown", REASON.resumed, "Deployment is resumed", now));
    else return;
    await this.#writeStatus(s, status);
  }

  /** Status without touching Progressing (syncDeploymentStatus). */
  async #syncStatus(s: Sync, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const status = calculateStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS, s.d, this.#now());
    if (!sameStatus(s.d.status, status)) await this.#writeStatus(s, status);
  }

  /** Status with the Progressing condition, and a requeue to notice a missed deadline (syncRolloutStatus). */
  async #syncRolloutStatus(s: Sync, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<ReconcileResult | void> {
    const d = s.d;
    const now = this.#now();
    const all = [...oldRSs, ...(newRS ? [newRS] : [])];
    const status = calculateStatus(all, newRS, d, now);
    if (!hasProgressDeadline(d)) removeCondition(status, "Progressing");
    const current = getCondition(d.status, "Progressing");
    const complete = status.replicas === status.updatedReplicas && current?.reason === REASON.newRSAvailable;
    if (hasProgressDeadline(d) && !complete) {
      const what = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
      if (deploymentComplete(d, status)) {
        setCondition(status, newCondition("Progressing", "True", REASON.newRSAvailable, `${what} has successfully progressed.`, now));
      } else if (deploymentProgressing(d, status)) {
        const c = newCondition("Progressing", "True", REASON.rsUpdated, `${what} is progressing.`, now);
        if (current?.status === "True") c.lastTransitionTime = current.lastTransitionTime!;
        removeCondition(status, "Progressing");
        setCondition(status, c);
      } else if (deploymentTimedOut(d, status, now)) {
        setCondition(status, newCondition("Progressing", "False", REASON.timedOut, `${what} has timed out progressing.`, now));
      }
    }
    const failure = all.map((rs) => rs.status?.conditions?.find((c) => c.type === "ReplicaFailure" && c.status === "True")).find((c) => c);
    if (failure) setCondition(status, newCondition("ReplicaFailure", failure.status, failure.reason ?? "", failure.message ?? "", now));
    else removeCondition(status, "ReplicaFailure");
    if (sameStatus(d.status, status)) return this.#requeueStuck(d, status, now);
    await this.#writeStatus(s, status);
  }

  /** When a rollout may time out, when to look again (requeueStuckDeployment). */
  #requeueStuck(d: Deployment, status: DeploymentStatus, now: number): ReconcileResult | void {
    const cond = getCondition(d.status, "Progressing");
    if (!hasProgressDeadline(d) || !cond) return;
    if (deploymentComplete(d, status) || cond.reason === REASON.timedOut) return;
    const after = timeOf(cond.lastUpdateTime) + d.spec!.progressDeadlineSeconds! * 1000 - now;
    if (Number.isNaN(after)) return;
    return { requeueAfter: Math.max(after, 0) + 1000 };
  }

  async #writeStatus(s: Sync, status: DeploymentStatus): Promise<void> {
    s.d = await this.#x.client.updateStatus<Deployment>(DEPLOYMENTS, { ...s.d, status });
  }
}
