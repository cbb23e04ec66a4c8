/**
 * @module RBAC rule and subject matching, as upstream's
 * `plugin/pkg/auth/authorizer/rbac` (RuleAllows, appliesTo) and
 * `pkg/apis/rbac/v1` helpers (VerbMatches, APIGroupMatches, ResourceMatches,
 * ResourceNameMatches, NonResourceURLMatches). Pure functions.
 */
import { goQuote } from "../../../api/validation.ts";
import type { RequestAttributes, UserInfo } from "../types.ts";

/** rbac/v1 PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** rbac/v1 Subject. */
export interface Subject {
  kind: string;
  name: string;
  apiGroup?: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup?: string;
  kind: string;
  name: string;
}

const ALL = "*";

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  for (const v of rule.verbs ?? []) if (v === ALL || v === verb) return true;
  return false;
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  for (const g of rule.apiGroups ?? []) if (g === ALL || g === group) return true;
  return false;
}

/** `*`, the exact `resource[/subresource]`, or `*\/subresource`. */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === ALL || r === combined) return true;
    if (subresource.length === 0) continue;
    if (r.length === subresource.length + 2 && r.startsWith("*/") && r.endsWith(subresource)) return true;
  }
  return false;
}

/** No resourceNames means every name (including none); otherwise the name must be listed. */
export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return names.includes(name);
}

/** `*`, the exact path, or a `prefix*` the path starts with. */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === ALL || u === path) return true;
    if (u.endsWith("*") && path.startsWith(u.replace(/\*+$/, ""))) return true;
  }
  return false;
}

/** Whether one rule allows the request (RuleAllows). */
export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (attrs.resourceRequest) {
    const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    return (
      verbMatches(rule, attrs.verb) &&
      apiGroupMatches(rule, attrs.apiGroup) &&
      resourceMatches(rule, combined, attrs.subresource) &&
      resourceNameMatches(rule, attrs.name)
    );
  }
  return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.path);
}

/** Whether any rule allows the request (RulesAllow). */
export function rulesAllow(attrs: RequestAttributes, rules: readonly PolicyRule[]): boolean {
  for (const r of rules) if (ruleAllows(attrs, r)) return true;
  return false;
}

export const SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";

/** `system:serviceaccount:<ns>:<name>` → [ns, name]. */
export function serviceAccountOf(username: string): [string, string] | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const rest = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(":");
  if (rest.length !== 2 || rest[0] === "" || rest[1] === "") return undefined;
  return [rest[0]!, rest[1]!];
}

/**
 * Whether a binding subject names the user (appliesToUser). A ServiceAccount
 * subject without a namespace means the binding's namespace (`bindingNamespace`,
 * "" for a ClusterRoleBinding, where such a subject matches nobody).
 */
export function subjectMatches(user: UserInfo, s: Subject, bindingNamespace: string): boolean {
  switch (s.kind) {
    case "User":
      return user.name === s.name;
    case "Group":
      return user.groups.includes(s.name);
    case "ServiceAccount": {
      const ns = s.namespace || bindingNamespace;
      if (!ns) return false;
      return user.name === `${SERVICE_ACCOUNT_PREFIX}${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

/**
 * The index keys a subject is found under (`User:alice`, `Group:devs`,
 * `ServiceAccount:ns:name`), or undefined for a subject that matches nobody.
 */
export function subjectKey(s: Subject, bindingNamespace: string): string | undefined {
  switch (s.kind) {
    case "User":
    case "Group":
      return `${s.kind}:${s.name}`;
    case "ServiceAccount": {
      const ns = s.namespace || bindingNamespace;
      return ns ? `ServiceAccount:${ns}:${s.name}` : undefined;
    }
    default:
      return undefined;
  }
}

/** The keys under which bindings that apply to `user` are indexed. */
export function userKeys(user: UserInfo): string[] {
  const keys = [`User:${user.name}`];
  for (const g of user.groups) keys.push(`Group:${g}`);
  const sa = serviceAccountOf(user.name);
  if (sa) keys.push(`ServiceAccount:${sa[0]}:${sa[1]}`);
  return keys;
}

/** describeSubject: `User "alice"`, `ServiceAccount "name/ns"`. */
export function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === "ServiceAccount") return `${s.kind} ${goQuote(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${goQuote(s.name)}`;
}

/** Structural equality of two rules (order of list entries matters, as reflect.DeepEqual). */
export function sameRule(a: PolicyRule, b: PolicyRule): boolean {
  const eq = (x: string[] | undefined, y: string[] | undefined) => {
    const xa = x ?? [];
    const ya = y ?? [];
    return xa.length === ya.length && xa.every((v, i) => v === ya[i]);
  };
  return eq(a.verbs, b.verbs) && eq(a.apiGroups, b.apiGroups) && eq(a.resources, b.resources) && eq(a.resourceNames, b.resourceNames) && eq(a.nonResourceURLs, b.nonResourceURLs);
}
