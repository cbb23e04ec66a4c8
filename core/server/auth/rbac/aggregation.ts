/**
 * @module The ClusterRole aggregation controller (upstream's
 * `pkg/controller/clusterroleaggregation`): a ClusterRole with an
 * `aggregationRule` gets as its `rules` the union of the rules of every other
 * ClusterRole its selectors match (selectors in order, matches by name, the
 * first copy of a repeated rule kept). Any ClusterRole change requeues every
 * aggregated role, so chains (view → edit → admin) settle. The rules are
 * written with server-side apply (field manager
 * `clusterrole-aggregation-controller`, forced), as upstream.
 */
import type { KubeObject } from "../../../api/meta.ts";
import { labelSelectorFromObject, type LabelSelectorObject } from "../../../api/selectors.ts";
import { Controller } from "../../../client/controller.ts";
import type { Client, Informer, InformerFactory } from "../../../client/types.ts";
import type { Logger } from "../../../log.ts";
import { CLUSTER_ROLES, type RoleObject } from "./authorizer.ts";
import { type PolicyRule, sameRule } from "./rules.ts";

export const AGGREGATION_FIELD_MANAGER = "clusterrole-aggregation-controller";

/** The aggregated rules for `role` given every ClusterRole; undefined when `role` is not aggregated. */
export function aggregatedRules(role: RoleObject, all: readonly RoleObject[]): PolicyRule[] | undefined {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!role.aggregationRule || !Array.isArray(selectors)) return undefined;
  const out: PolicyRule[] = [];
  const byName = [...all].sort((a, b) => ((a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : (a.metadata.name ?? "") > (b.metadata.name ?? "") ? 1 : 0));
  for (const raw of selectors) {
    const sel = labelSelectorFromObject(raw as LabelSelectorObject);
    for (const other of byName) {
      if (other.metadata.name === role.metadata.name) continue;
      if (!sel.matches(other.metadata.labels)) continue;
      for (const r of Array.isArray(other.rules) ? other.rules : []) if (!out.some((x) => sameRule(x, r))) out.push(r);
    }
  }
  return out;
}

function sameRules(a: readonly PolicyRule[], b: readonly PolicyRule[] | undefined): boolean {
  const bb = b ?? [];
  return a.length === bb.length && a.every((r, i) => sameRule(r, bb[i]!));
}

export class ClusterRoleAggregator {
  readonly #client: Client;
  readonly #roles: Informer<RoleObject>;
  readonly #controller: Controller;
  #unsubscribe: (() => void) | undefined;

  constructor(client: Client, informers: InformerFactory, log?: Logger) {
    this.#client = client;
    this.#roles = informers.informer<RoleObject>(CLUSTER_ROLES);
    this.#controller = new Controller(
      { name: "clusterrole-aggregation", reconcile: (key) => this.#sync(key) },
      { workers: 1, ...(log ? { log } : {}) },
    );
  }

  /** Starts watching ClusterRoles (the informer factory must be started too). Idempotent. */
  start(): void {
    if (this.#unsubscribe) return;
    const enqueueAll = () => {
      for (const r of this.#roles.list()) if (r.aggregationRule) this.#controller.queue.add(r.metadata.name!);
    };
    this.#unsubscribe = this.#roles.on({ add: enqueueAll, update: enqueueAll, delete: enqueueAll });
    this.#controller.start();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    await this.#controller.stop();
  }

  async #sync(name: string): Promise<void> {
    const role = this.#roles.get(name);
    if (!role) return;
    const rules = aggregatedRules(role, this.#roles.list());
    if (!rules || sameRules(rules, role.rules)) return;
    const patch: KubeObject = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name }, rules } as KubeObject;
    await this.#client.patch(CLUSTER_ROLES, name, "apply", patch, { fieldManager: AGGREGATION_FIELD_MANAGER, force: true });
  }
}
