/**
 * @module Rule resolution for SelfSubjectRulesReview (`kubectl auth can-i
 * --list`): upstream's authorizer.RuleResolver. An authorizer that can list
 * what a user may do implements `rulesFor`; one that cannot (the node
 * authorizer) answers `incomplete`.
 */
import type { UserInfo } from "../types.ts";
import type { PolicyRule } from "./rules.ts";

export interface ResourceRuleInfo {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
}

export interface NonResourceRuleInfo {
  verbs: string[];
  nonResourceURLs: string[];
}

export interface SubjectRules {
  resourceRules: ResourceRuleInfo[];
  nonResourceRules: NonResourceRuleInfo[];
  /** True when the resolver knows it could not list everything the user may do. */
  incomplete: boolean;
  /** Resolution errors (a binding to a missing role), joined. */
  evaluationError?: string;
}

export interface RuleResolver {
  /** The rules that apply to `user` in `namespace`; called per review, must not write. */
  rulesFor(user: UserInfo, namespace: string): SubjectRules | Promise<SubjectRules>;
}

export function isRuleResolver(x: unknown): x is RuleResolver {
  return !!x && typeof (x as RuleResolver).rulesFor === "function";
}

/** Splits policy rules into resource and non-resource rule infos (RBACAuthorizer.RulesFor). */
export function toSubjectRules(rules: readonly PolicyRule[], errs: readonly string[] = [], incomplete = false): SubjectRules {
  const out: SubjectRules = { resourceRules: [], nonResourceRules: [], incomplete };
  for (const r of rules) {
    if ((r.resources ?? []).length > 0) {
      out.resourceRules.push({ verbs: [...(r.verbs ?? [])], apiGroups: [...(r.apiGroups ?? [])], resources: [...(r.resources ?? [])], resourceNames: [...(r.resourceNames ?? [])] });
    }
    if ((r.nonResourceURLs ?? []).length > 0) out.nonResourceRules.push({ verbs: [...(r.verbs ?? [])], nonResourceURLs: [...(r.nonResourceURLs ?? [])] });
  }
  if (errs.length > 0) out.evaluationError = errs.length === 1 ? errs[0]! : `[${errs.join(", ")}]`;
  return out;
}

/** Concatenates several resolvers' answers (upstream's unionAuthzRulesHandler). */
export function mergeSubjectRules(parts: readonly SubjectRules[]): SubjectRules {
  const errs = parts.map((p) => p.evaluationError).filter((e): e is string => !!e);
  const out: SubjectRules = {
    resourceRules: parts.flatMap((p) => p.resourceRules),
    nonResourceRules: parts.flatMap((p) => p.nonResourceRules),
    incomplete: parts.some((p) => p.incomplete),
  };
  if (errs.length > 0) out.evaluationError = errs.length === 1 ? errs[0]! : `[${errs.join(", ")}]`;
  return out;
}
