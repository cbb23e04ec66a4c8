/**
 * @module The RBAC authorizer: upstream's `RBACAuthorizer` over shared
 * informers of Roles, ClusterRoles, RoleBindings and ClusterRoleBindings.
 *
 * Bindings are indexed by subject (`User:<name>`, `Group:<name>`,
 * `ServiceAccount:<ns>:<name>`; RoleBindings under `<ns>|<subject>`), so a
 * decision looks only at the bindings naming the user, one of its groups or
 * its ServiceAccount — O(bindings of the user), not O(all bindings). Roles
 * are then read by key. An aggregated ClusterRole is read like any other: the
 * aggregation controller keeps its `rules` the union of the roles it selects.
 *
 * Decisions are upstream's: allow with `RBAC: allowed by <binding> of <role>
 * to <subject>`, otherwise no-opinion (never deny: a later authorizer may
 * allow), with the resolution errors (a binding to a missing role) as the
 * reason. Until the four informers have listed, a decision waits for them.
 */
import type { KubeObject } from "../../../api/meta.ts";
import type { Informer, InformerFactory, ResourceRef } from "../../../client/types.ts";
import { goQuote } from "../../../api/validation.ts";
import type { AuthorizationResult, Authorizer, RequestAttributes, UserInfo } from "../types.ts";
import { describeSubject, type PolicyRule, type RoleRef, ruleAllows, type Subject, subjectKey, subjectMatches, userKeys } from "./rules.ts";
import type { RuleResolver, SubjectRules } from "./rule-resolver.ts";
import { toSubjectRules } from "./rule-resolver.ts";

export const RBAC_GROUP = "rbac.authorization.k8s.io";
export const ROLES: ResourceRef = { group: RBAC_GROUP, version: "v1", resource: "roles" };
export const CLUSTER_ROLES: ResourceRef = { group: RBAC_GROUP, version: "v1", resource: "clusterroles", namespaced: false };
export const ROLE_BINDINGS: ResourceRef = { group: RBAC_GROUP, version: "v1", resource: "rolebindings" };
export const CLUSTER_ROLE_BINDINGS: ResourceRef = { group: RBAC_GROUP, version: "v1", resource: "clusterrolebindings", namespaced: false };

export interface RoleObject extends KubeObject {
  rules?: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors?: unknown[] };
}

export interface BindingObject extends KubeObject {
  roleRef?: RoleRef;
  subjects?: Subject[];
}

/** The index on both binding informers. */
const SUBJECT_INDEX = "rbac:subject";

/** Which binding granted a rule (upstream's authorizer.Attributes "source"). */
export interface RuleSource {
  binding: BindingObject;
  subject: Subject;
  /** `ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`. */
  toString(): string;
}

/** Return false to stop the walk. */
export type RuleVisitor = (source: RuleSource | undefined, rule: PolicyRule | undefined, err: string | undefined) => boolean;

function subjectsOf(b: BindingObject): Subject[] {
  return Array.isArray(b.subjects) ? b.subjects.filter((s): s is Subject => !!s && typeof s === "object") : [];
}

export class RbacAuthorizer implements Authorizer, RuleResolver {
  readonly name = "rbac";
  readonly #roles: Informer<RoleObject>;
  readonly #clusterRoles: Informer<RoleObject>;
  readonly #roleBindings: Informer<BindingObject>;
  readonly #clusterRoleBindings: Informer<BindingObject>;
  /** How many bindings the last decision looked at (tests and benchmarks check the indexing). */
  lastBindingsExamined = 0;

  /** Takes the informers it needs from `informers` (started with the factory). */
  constructor(informers: InformerFactory) {
    this.#roles = informers.informer<RoleObject>(ROLES);
    this.#clusterRoles = informers.informer<RoleObject>(CLUSTER_ROLES);
    this.#roleBindings = informers.informer<BindingObject>(ROLE_BINDINGS);
    this.#clusterRoleBindings = informers.informer<BindingObject>(CLUSTER_ROLE_BINDINGS);
    if (!this.#clusterRoleBindings.hasIndex(SUBJECT_INDEX)) {
      this.#clusterRoleBindings.addIndex(SUBJECT_INDEX, (b) => unique(subjectsOf(b).map((s) => subjectKey(s, ""))));
    }
    if (!this.#roleBindings.hasIndex(SUBJECT_INDEX)) {
      this.#roleBindings.addIndex(SUBJECT_INDEX, (b) => {
        const ns = b.metadata.namespace ?? "";
        return unique(subjectsOf(b).map((s) => subjectKey(s, ns))).map((k) => `${ns}|${k}`);
      });
    }
  }

  hasSynced(): boolean {
    return this.#roles.hasSynced() && this.#clusterRoles.hasSynced() && this.#roleBindings.hasSynced() && this.#clusterRoleBindings.hasSynced();
  }

  /** Resolves once every informer has listed. */
  async waitForSync(): Promise<void> {
    await Promise.all([this.#roles.waitForSync(), this.#clusterRoles.waitForSync(), this.#roleBindings.waitForSync(), this.#clusterRoleBindings.waitForSync()]);
  }

  authorize(user: UserInfo, attrs: RequestAttributes): AuthorizationResult | Promise<AuthorizationResult> {
    if (!this.hasSynced()) return this.waitForSync().then(() => this.#decide(user, attrs));
    return this.#decide(user, attrs);
  }

  #decide(user: UserInfo, attrs: RequestAttributes): AuthorizationResult {
    let allowedBy: RuleSource | undefined;
    const errs: string[] = [];
    this.visitRulesFor(user, attrs.namespace, (source, rule, err) => {
      if (rule && ruleAllows(attrs, rule)) {
        allowedBy = source;
        return false;
      }
      if (err) errs.push(err);
      return true;
    });
    if (allowedBy) return { decision: "allow", reason: `RBAC: allowed by ${allowedBy.toString()}` };
    const reason = errs.length === 0 ? "" : errs.length === 1 ? `RBAC: ${errs[0]}` : `RBAC: [${errs.join(", ")}]`;
    return { decision: "no-opinion", reason };
  }

  /**
   * Walks the rules that apply to `user` in `namespace` ("" = cluster-wide
   * only): ClusterRoleBindings first, then the namespace's RoleBindings
   * (VisitRulesFor). A binding whose role cannot be found is visited once
   * with the error.
   */
  visitRulesFor(user: UserInfo, namespace: string, visit: RuleVisitor): void {
    const keys = userKeys(user);
    let examined = 0;
    const seen = new Set<BindingObject>();
    try {
      for (const key of keys) {
        for (const b of this.#clusterRoleBindings.byIndex(SUBJECT_INDEX, key)) {
          if (seen.has(b)) continue;
          seen.add(b);
          examined++;
          if (!this.#visitBinding(b, user, "", visit)) return;
        }
      }
      if (namespace === "") return;
      for (const key of keys) {
        for (const b of this.#roleBindings.byIndex(SUBJECT_INDEX, `${namespace}|${key}`)) {
          if (seen.has(b)) continue;
          seen.add(b);
          examined++;
          if (!this.#visitBinding(b, user, namespace, visit)) return;
        }
      }
    } finally {
      this.lastBindingsExamined = examined;
    }
  }

  /** Returns false when the visitor asked to stop. */
  #visitBinding(b: BindingObject, user: UserInfo, namespace: string, visit: RuleVisitor): boolean {
    const subject = subjectsOf(b).find((s) => subjectMatches(user, s, namespace));
    if (!subject) return true;
    const { rules, err } = this.#roleRules(b.roleRef, namespace);
    const source = describeSource(b, subject, namespace);
    if (err !== undefined) return visit(source, undefined, err);
    for (const r of rules) if (!visit(source, r, undefined)) return false;
    return true;
  }

  /** GetRoleReferenceRules. */
  #roleRules(ref: RoleRef | undefined, namespace: string): { rules: PolicyRule[]; err?: string } {
    const kind = ref?.kind ?? "";
    const name = ref?.name ?? "";
    if (kind === "Role") {
      const role = this.#roles.get(name, namespace);
      if (!role) return { rules: [], err: `role.rbac.authorization.k8s.io ${goQuote(name)} not found` };
      return { rules: rulesOf(role) };
    }
    if (kind === "ClusterRole") {
      const role = this.#clusterRoles.get(name);
      if (!role) return { rules: [], err: `clusterrole.rbac.authorization.k8s.io ${goQuote(name)} not found` };
      return { rules: rulesOf(role) };
    }
    return { rules: [], err: `unsupported role reference kind: ${goQuote(kind)}` };
  }

  /** Every rule granted to `user` in `namespace` (RulesFor), for SelfSubjectRulesReview. */
  rulesFor(user: UserInfo, namespace: string): SubjectRules | Promise<SubjectRules> {
    const collect = (): SubjectRules => {
      const rules: PolicyRule[] = [];
      const errs: string[] = [];
      this.visitRulesFor(user, namespace, (_s, rule, err) => {
        if (rule) rules.push(rule);
        if (err) errs.push(err);
        return true;
      });
      return toSubjectRules(rules, errs);
    };
    return this.hasSynced() ? collect() : this.waitForSync().then(collect);
  }
}

function rulesOf(role: RoleObject): PolicyRule[] {
  return Array.isArray(role.rules) ? role.rules.filter((r): r is PolicyRule => !!r && typeof r === "object") : [];
}

function unique(keys: (string | undefined)[]): string[] {
  return [...new Set(keys.filter((k): k is string => k !== undefined))];
}

function describeSource(b: BindingObject, subject: Subject, namespace: string): RuleSource {
  return {
    binding: b,
    subject,
    toString() {
      const ref = b.roleRef ?? { kind: "", name: "" };
      const name = b.metadata.name ?? "";
      if (namespace === "") return `ClusterRoleBinding ${goQuote(name)} of ${ref.kind} ${goQuote(ref.name)} to ${describeSubject(subject, "")}`;
      return `RoleBinding ${goQuote(`${name}/${namespace}`)} of ${ref.kind} ${goQuote(ref.name)} to ${describeSubject(subject, namespace)}`;
    },
  };
}
