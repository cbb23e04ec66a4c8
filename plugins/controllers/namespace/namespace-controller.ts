/**
 * @module The namespace controller (upstream `pkg/controller/namespace`): a
 * namespace marked for deletion is emptied — every namespaced resource
 * deleted (collection deletes, Background propagation) — while its status
 * conditions say what remains; once nothing is left its `kubernetes`
 * finalizer is removed and the API server removes it. Creating objects in a
 * terminating namespace is refused by the API server itself.
 */
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Client, Informer, Reconciler, ReconcileResult } from "../../../core/client/types.ts";
import type { Logger } from "../../../core/log.ts";
import { discoverResources, type ResourceInfo } from "../common/discovery.ts";
import { type Condition, NAMESPACES, rfc3339 } from "../common/refs.ts";

export const FINALIZER = "kubernetes";

type Namespace = KubeObject & { spec?: { finalizers?: string[] }; status?: { phase?: string; conditions?: Condition[] } };

interface Content {
  /** group-resource → remaining count. */
  remaining: Map<string, number>;
  /** finalizer → remaining objects carrying it. */
  finalizers: Map<string, number>;
  failures: string[];
  /** Seconds until the slowest graceful deletion should be over. */
  estimate: number;
}

export class NamespaceReconciler implements Reconciler {
  readonly name = "namespace";

  constructor(
    private readonly client: Client,
    private readonly namespaces: Informer<Namespace>,
    private readonly log: Logger,
    private readonly discover: (client: Client) => Promise<ResourceInfo[]> = discoverResources,
  ) {}

  async reconcile(name: string): Promise<ReconcileResult | void> {
    if (!this.namespaces.get(name)?.metadata.deletionTimestamp) return;
    let ns: Namespace;
    try {
      ns = await this.client.get<Namespace>(NAMESPACES, name);
    } catch (e) {
      if (isApiError(e, "NotFound")) return;
      throw e;
    }
    if (!ns.metadata.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER)) return;
    const resources = (await this.discover(this.client)).filter((r) => r.namespaced);
    const content = await this.#deleteAll(name, resources);
    ns = await this.#updateConditions(ns, content);
    if (content.remaining.size > 0 || content.failures.length > 0) {
      this.log.debug({ namespace: name, remaining: Object.fromEntries(content.remaining) }, "content remains");
      return { requeueAfter: (Math.floor(content.estimate / 2) + 1) * 1000 };
    }
    await this.#finalize(ns);
  }

  /** Deletes everything in the namespace and reports what is left. */
  async #deleteAll(namespace: string, resources: ResourceInfo[]): Promise<Content> {
    const out: Content = { remaining: new Map(), finalizers: new Map(), failures: [], estimate: 0 };
    const now = Date.now();
    await Promise.all(
      resources.map(async (r) => {
        const gr = r.ref.group ? `${r.ref.resource}.${r.ref.group}` : r.ref.resource;
        try {
          await this.client.deleteCollection(r.ref, { namespace, propagationPolicy: "Background" });
          const left = (await this.client.list(r.ref, { namespace })).items;
          if (left.length === 0) return;
          out.remaining.set(gr, left.length);
          for (const o of left) {
            for (const f of o.metadata.finalizers ?? []) out.finalizers.set(f, (out.finalizers.get(f) ?? 0) + 1);
            if (o.metadata.finalizers?.length) out.estimate = Math.max(out.estimate, 15);
            const dt = Date.parse(o.metadata.deletionTimestamp ?? "");
            if (!Number.isNaN(dt)) out.estimate = Math.max(out.estimate, Math.ceil((dt - now) / 1000));
          }
        } catch (e) {
          if (isApiError(e, "NotFound") || isApiError(e, "MethodNotAllowed")) return; // not served (a CRD going away)
          out.failures.push(`${gr}: ${(e as Error).message}`);
        }
      }),
    );
    return out;
  }

  /** The deletion conditions upstream reports in namespace status, written when they change. */
  async #updateConditions(ns: Namespace, c: Content): Promise<Namespace> {
    const list = (m: Map<string, number>, f: (k: string, n: number) => string) =>
      [...m.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, n]) => f(k, n))
        .join(", ");
    const want: [string, boolean, string, string][] = [
      ["NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered", "All resources successfully discovered"],
      [
        "NamespaceDeletionContentFailure",
        c.failures.length > 0,
        c.failures.length > 0 ? "ContentDeletionFailed" : "ContentDeleted",
        c.failures.length > 0 ? `Failed to delete all resource types, ${c.failures.length} remaining: ${c.failures.join(", ")}` : "All content successfully deleted, may be waiting on finalization",
      ],
      [
        "NamespaceContentRemaining",
        c.remaining.size > 0,
        c.remaining.size > 0 ? "SomeResourcesRemain" : "ContentRemoved",
        c.remaining.size > 0 ? `Some resources are remaining: ${list(c.remaining, (k, n) => `${k} has ${n} resource instances`)}` : "All content successfully removed",
      ],
      [
        "NamespaceFinalizersRemaining",
        c.finalizers.size > 0,
        c.finalizers.size > 0 ? "SomeFinalizersRemain" : "ContentHasNoFinalizers",
        c.finalizers.size > 0
          ? `Some content in the namespace has finalizers remaining: ${list(c.finalizers, (k, n) => `${k} in ${n} resource instances`)}`
          : "All content-preserving finalizers finished",
      ],
    ];
    const now = rfc3339(Date.now());
    const prev = ns.status?.conditions ?? [];
    let changed = false;
    const conditions: Condition[] = prev.filter((p) => !want.some(([t]) => t === p.type));
    for (const [type, on, reason, message] of want) {
      const status = on ? "True" : "False";
      const old = prev.find((p) => p.type === type);
      if (old && old.status === status && old.reason === reason && old.message === message) {
        conditions.push(old);
        continue;
      }
      changed = true;
      conditions.push({ type, status, reason, message, lastTransitionTime: old?.status === status ? old.lastTransitionTime! : now });
    }
    if (!changed && ns.status?.phase === "Terminating") return ns;
    try {
      return await this.client.updateStatus<Namespace>(NAMESPACES, { ...ns, status: { ...ns.status, phase: "Terminating", conditions } });
    } catch (e) {
      if (isApiError(e, "Conflict")) return ns; // next round
      throw e;
    }
  }

  /**
   * Removes the `kubernetes` finalizer (PUT namespaces/NAME/finalize, as
   * upstream). The API server then deletes the namespace once no finalizer
   * holds it.
   */
  async #finalize(ns: Namespace): Promise<void> {
    const name = ns.metadata.name!;
    const spec = { ...ns.spec, finalizers: (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER) };
    try {
      await this.client.updateSubresource(NAMESPACES, name, "finalize", { ...ns, spec } as KubeObject);
    } catch (e) {
      if (isApiError(e, "NotFound")) return;
      throw e;
    }
    this.log.info({ namespace: name }, "namespace emptied and finalized");
  }
}
