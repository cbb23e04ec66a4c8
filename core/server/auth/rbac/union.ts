/**
 * @module Authorizer chains: upstream's `union` (the first allow or deny
 * wins, no-opinion falls through) and the privileged-group authorizer
 * (`system:masters` may do anything, without consulting RBAC), plus
 * `skiffAuthorizer`, the chain kube-apiserver runs with
 * `--authorization-mode=Node,RBAC`.
 */
import { Groups, type AuthorizationResult, type Authorizer, type RequestAttributes, type UserInfo } from "../types.ts";
import { isRuleResolver, mergeSubjectRules, type RuleResolver, type SubjectRules } from "./rule-resolver.ts";

/** An authorizer that may also list rules (every one in this folder does). */
export type ResolvingAuthorizer = Authorizer & RuleResolver;

/**
 * Asks each authorizer in order; the first allow or deny decides. When all
 * have no opinion the answer is no-opinion with their reasons joined by
 * newlines (the pipeline turns that into a 403). An authorizer that throws ends the chain
 * with no-opinion and the error as the reason (upstream treats an error
 * like no decision but reports it).
 */
export function union(authorizers: readonly Authorizer[], name = "union"): ResolvingAuthorizer {
  return {
    name,
    authorize(user: UserInfo, attrs: RequestAttributes): AuthorizationResult | Promise<AuthorizationResult> {
      // Synchronous while every step answers synchronously (the usual case:
      // synced informers), so a decision costs no promise.
      const reasons: string[] = [];
      const step = (i: number): AuthorizationResult | Promise<AuthorizationResult> => {
        for (; i < authorizers.length; i++) {
          const a = authorizers[i]!;
          let r: AuthorizationResult | Promise<AuthorizationResult>;
          try {
            r = a.authorize(user, attrs);
          } catch (e) {
            reasons.push(`${a.name}: ${e instanceof Error ? e.message : String(e)}`);
            continue;
          }
          if (r instanceof Promise) {
            const next = i + 1;
            return r.then(
              (v) => (v.decision !== "no-opinion" ? v : (v.reason && reasons.push(v.reason), step(next))),
              (e: unknown) => (reasons.push(`${a.name}: ${e instanceof Error ? e.message : String(e)}`), step(next)),
            );
          }
          if (r.decision !== "no-opinion") return r;
          if (r.reason) reasons.push(r.reason);
        }
        return { decision: "no-opinion", reason: reasons.join("\n") };
      };
      return step(0);
    },
    async rulesFor(user: UserInfo, namespace: string): Promise<SubjectRules> {
      const parts: SubjectRules[] = [];
      for (const a of authorizers) {
        if (isRuleResolver(a)) parts.push(await a.rulesFor(user, namespace));
        else parts.push({ resourceRules: [], nonResourceRules: [], incomplete: true });
      }
      return mergeSubjectRules(parts);
    },
  };
}

/**
 * Allows everything for members of `groups` (upstream's
 * NewPrivilegedGroups(system:masters)); no opinion for anyone else.
 */
export function privilegedGroups(groups: readonly string[] = [Groups.masters]): ResolvingAuthorizer {
  return {
    name: "privileged-groups",
    authorize(user: UserInfo): AuthorizationResult {
      for (const g of user.groups) if (groups.includes(g)) return { decision: "allow", reason: "" };
      return { decision: "no-opinion", reason: "" };
    },
    rulesFor(user: UserInfo): SubjectRules {
      const privileged = user.groups.some((g) => groups.includes(g));
      if (!privileged) return { resourceRules: [], nonResourceRules: [], incomplete: false };
      return {
        resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"], resourceNames: [] }],
        nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
        incomplete: false,
      };
    },
  };
}

/**
 * The API server's chain: `system:masters` first, then the node authorizer,
 * then RBAC (kube-apiserver's `--authorization-mode=Node,RBAC` with its
 * built-in privileged-group step).
 */
export function skiffAuthorizer(parts: { node?: Authorizer; rbac: Authorizer }): ResolvingAuthorizer {
  return union([privilegedGroups(), ...(parts.node ? [parts.node] : []), parts.rbac], "skiff");
}
