/**
 * @module The ReplicaSet controller (upstream `pkg/controller/replicaset`),
 * which also serves ReplicationControllers through a small `ReplicaKind`
 * adapter, as upstream does.
 *
 * Per owner key: claim pods (adopt matching orphans, release non-matching
 * ones), then — only when the previous round's creations/deletions have all
 * been observed (expectations) — create missing pods in slow-start batches or
 * delete surplus ones (the least valuable first, pods.ts), at most
 * `burstReplicas` per round; finally write status (replicas,
 * fullyLabeledReplicas, readyReplicas, availableReplicas, observedGeneration,
 * the ReplicaFailure condition) when it changed.
 */
import { isApiError } from "../../../core/api/errors.ts";
import type { LabelSelector } from "../../../core/api/selectors.ts";
import { labelSelectorFromSet } from "../../../core/api/selectors.ts";
import { splitKey } from "../../../core/client/keys.ts";
import type { Client, Informer, Reconciler, ReconcileResult, ResourceRef } from "../../../core/client/types.ts";
import type { Logger } from "../../../core/log.ts";
import type { EventSink } from "../../../core/plugin/types.ts";
import { slowStartBatch } from "../common/batch.ts";
import type { Expectations } from "../common/expectations.ts";
import { CONTROLLER_UID_INDEX, ORPHANS_INDEX } from "../common/informers.ts";
import { claim, controllerRefOf, newControllerRef, recheckOwner } from "../common/owner-refs.ts";
import { availableAt, isPodActive, isPodReady, podsToDelete } from "../common/pods.ts";
import { type Condition, isNamespaceTerminating, type Pod, PODS, type ReplicaOwner, type ReplicaStatus, rfc3339 } from "../common/refs.ts";
import { mapSelectorOf, selectorOf } from "../common/selectors.ts";

/** What differs between ReplicaSets and ReplicationControllers. */
export interface ReplicaKind {
  readonly ref: ResourceRef;
  readonly kind: string;
  readonly apiVersion: string;
  selector(o: ReplicaOwner): LabelSelector;
}

export const REPLICA_SET_KIND: ReplicaKind = {
  ref: { group: "apps", version: "v1", resource: "replicasets" },
  kind: "ReplicaSet",
  apiVersion: "apps/v1",
  selector: (o) => selectorOf(o, o.spec?.selector as never),
};

export const REPLICATION_CONTROLLER_KIND: ReplicaKind = {
  ref: { group: "", version: "v1", resource: "replicationcontrollers" },
  kind: "ReplicationController",
  apiVersion: "v1",
  selector: (o) => mapSelectorOf(o, o.spec?.selector as Record<string, string> | undefined),
};

/** Upstream's default burstReplicas: at most this many creations or deletions per round. */
export const BURST_REPLICAS = 500;

export interface ReplicaControllerDeps {
  client: Client;
  events: EventSink;
  log: Logger;
  kind: ReplicaKind;
  owners: Informer<ReplicaOwner>;
  pods: Informer<Pod>;
  expectations: Expectations;
  burstReplicas?: number;
  now?: () => number;
}

const templateSelectors = new WeakMap<object, LabelSelector>();

function templateSelector(o: ReplicaOwner): LabelSelector {
  let s = templateSelectors.get(o);
  if (!s) {
    try {
      s = labelSelectorFromSet(o.spec?.template?.metadata?.labels ?? {});
    } catch {
      s = { matches: () => false } as unknown as LabelSelector;
    }
    templateSelectors.set(o, s);
  }
  return s;
}

export class ReplicaReconciler implements Reconciler {
  readonly name: string;
  readonly #d: ReplicaControllerDeps;
  readonly #burst: number;
  readonly #now: () => number;

  constructor(deps: ReplicaControllerDeps) {
    this.#d = deps;
    this.name = deps.kind.kind === "ReplicaSet" ? "replicaset" : "replicationcontroller";
    this.#burst = deps.burstReplicas ?? BURST_REPLICAS;
    this.#now = deps.now ?? Date.now;
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const d = this.#d;
    const owner = d.owners.get(name, namespace);
    if (!owner) {
      d.expectations.delete(key);
      return;
    }
    const needsSync = d.expectations.satisfied(key);
    const selector = d.kind.selector(owner);
    const uid = owner.metadata.uid!;
    const candidates: Pod[] = [];
    for (const p of d.pods.byIndex(CONTROLLER_UID_INDEX, uid)) if (isPodActive(p)) candidates.push(p);
    for (const p of d.pods.byIndex(ORPHANS_INDEX, namespace)) if (isPodActive(p) && selector.matches(p.metadata.labels)) candidates.push(p);
    const claimed = await claim({
      client: d.client,
      ref: PODS,
      owner,
      selector,
      candidates,
      canAdopt: () => recheckOwner(d.client, d.kind.ref, owner),
    });
    if (claimed.error !== undefined) throw claimed.error;
    const pods = claimed.claimed;

    let manageError: unknown;
    if (needsSync && owner.metadata.deletionTimestamp === undefined) {
      try {
        await this.#manage(key, owner, pods);
      } catch (e) {
        manageError = e;
      }
    }
    const { status, nextAvailableAt } = this.#status(owner, pods, manageError);
    await this.#writeStatus(owner, status);
    if (manageError !== undefined) throw manageError;
    if (nextAvailableAt !== undefined) return { requeueAfter: Math.max(1, nextAvailableAt - this.#now()) + 50 };
  }

  /** Creates or deletes pods toward spec.replicas (upstream manageReplicas). */
  async #manage(key: string, owner: ReplicaOwner, pods: Pod[]): Promise<void> {
    const d = this.#d;
    const want = owner.spec?.replicas ?? 1;
    let diff = pods.length - want;
    if (diff < 0) {
      diff = Math.min(-diff, this.#burst);
      d.expectations.expectCreations(key, diff);
      const template = owner.spec?.template ?? {};
      const labels = template.metadata?.labels ?? {};
      if (Object.keys(labels).length === 0) throw new Error("unable to create pods, no labels");
      const ref = newControllerRef({ ...owner, apiVersion: d.kind.apiVersion, kind: d.kind.kind });
      const pod: Pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          generateName: `${owner.metadata.name}-`,
          namespace: owner.metadata.namespace,
          labels,
          ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
          ...(template.metadata?.finalizers ? { finalizers: template.metadata.finalizers } : {}),
          ownerReferences: [ref],
        },
        spec: template.spec ?? {},
      };
      const result = await slowStartBatch(diff, async () => {
        try {
          // The client serializes and never changes `pod`, so one object serves every create.
          const created = await d.client.create<Pod>(PODS, pod);
          d.events.record(owner, "Normal", "SuccessfulCreate", `Created pod: ${created.metadata.name}`);
        } catch (e) {
          if (isNamespaceTerminating(e)) return;
          d.expectations.creationObserved(key);
          d.events.record(owner, "Warning", "FailedCreate", `Error creating: ${(e as Error).message}`);
          throw e;
        }
      });
      for (let i = 0; i < result.skipped; i++) d.expectations.creationObserved(key);
      if (result.error !== undefined) throw result.error;
      return;
    }
    if (diff > 0) {
      diff = Math.min(diff, this.#burst);
      const victims = podsToDelete(pods, this.#relatedPods(owner), diff, this.#now());
      d.expectations.expectDeletions(key, victims.map((p) => p.metadata.uid!));
      let first: unknown;
      await Promise.all(
        victims.map(async (p) => {
          try {
            await d.client.delete(PODS, p.metadata.name!, { namespace: p.metadata.namespace!, preconditions: { uid: p.metadata.uid! } });
            d.events.record(owner, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`);
          } catch (e) {
            d.expectations.deletionObserved(key, p.metadata.uid!);
            if (isApiError(e, "NotFound") || isApiError(e, "Conflict")) return;
            d.events.record(owner, "Warning", "FailedDelete", `Error deleting: ${(e as Error).message}`);
            first ??= e;
          }
        }),
      );
      if (first !== undefined) throw first;
    }
  }

  /** Active pods of this owner and of its siblings (same controller, e.g. one Deployment's ReplicaSets). */
  #relatedPods(owner: ReplicaOwner): Pod[] {
    const d = this.#d;
    const ref = controllerRefOf(owner);
    const owners = ref ? d.owners.byIndex(CONTROLLER_UID_INDEX, ref.uid) : [owner];
    const out: Pod[] = [];
    for (const o of owners) for (const p of d.pods.byIndex(CONTROLLER_UID_INDEX, o.metadata.uid!)) if (isPodActive(p)) out.push(p);
    return out;
  }

  #status(owner: ReplicaOwner, pods: Pod[], manageError: unknown): { status: ReplicaStatus; nextAvailableAt?: number } {
    const now = this.#now();
    const minReady = owner.spec?.minReadySeconds ?? 0;
    const tmpl = templateSelector(owner);
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    let nextAvailableAt: number | undefined;
    for (const p of pods) {
      if (tmpl.matches(p.metadata.labels)) fullyLabeled++;
      if (!isPodReady(p)) continue;
      ready++;
      const at = availableAt(p, minReady)!;
      if (at <= now) available++;
      else if (nextAvailableAt === undefined || at < nextAvailableAt) nextAvailableAt = at;
    }
    const prev = owner.status ?? {};
    let conditions: Condition[] | undefined = prev.conditions;
    const failure = conditions?.find((c) => c.type === "ReplicaFailure");
    if (manageError !== undefined && !failure) {
      const diff = pods.length - (owner.spec?.replicas ?? 1);
      const reason = diff < 0 ? "FailedCreate" : diff > 0 ? "FailedDelete" : "";
      conditions = [
        ...(conditions ?? []),
        { type: "ReplicaFailure", status: "True", reason, message: (manageError as Error).message, lastTransitionTime: rfc3339(now) },
      ];
    } else if (manageError === undefined && failure) {
      conditions = conditions!.filter((c) => c.type !== "ReplicaFailure");
    }
    const status: ReplicaStatus = {
      replicas: pods.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: owner.metadata.generation ?? 0,
      ...(conditions && conditions.length > 0 ? { conditions } : {}),
    };
    return nextAvailableAt === undefined ? { status } : { status, nextAvailableAt };
  }

  /** Writes status when it changed; on a conflict, once more on a fresh read (upstream updateReplicaSetStatus). */
  async #writeStatus(owner: ReplicaOwner, status: ReplicaStatus): Promise<void> {
    const prev = owner.status ?? {};
    if (
      (prev.replicas ?? 0) === status.replicas &&
      (prev.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
      (prev.readyReplicas ?? 0) === status.readyReplicas &&
      (prev.availableReplicas ?? 0) === status.availableReplicas &&
      (prev.observedGeneration ?? 0) === status.observedGeneration &&
      JSON.stringify(prev.conditions ?? []) === JSON.stringify(status.conditions ?? [])
    ) {
      return;
    }
    const d = this.#d;
    try {
      await d.client.updateStatus(d.kind.ref, { ...owner, status });
    } catch (e) {
      if (!isApiError(e, "Conflict")) throw e;
      const fresh = await d.client.get<ReplicaOwner>(d.kind.ref, owner.metadata.name!, { namespace: owner.metadata.namespace! });
      if (fresh.metadata.uid !== owner.metadata.uid) return;
      await d.client.updateStatus(d.kind.ref, { ...fresh, status: { ...status, observedGeneration: Math.min(status.observedGeneration!, fresh.metadata.generation ?? 0) } });
    }
  }
}
