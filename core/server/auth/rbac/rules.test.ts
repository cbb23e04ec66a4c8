/** @module Table-driven tests of RBAC rule and subject matching (upstream RuleAllows, appliesTo, Covers). */
import { describe, expect, test } from "bun:test";
import { attributesOf } from "../request-attributes.ts";
import type { RequestAttributes, UserInfo } from "../types.ts";
import { aggregatedRules } from "./aggregation.ts";
import { breakdownRule, reconcileBinding, reconcileRole, uncoveredRules } from "./reconcile.ts";
import { type PolicyRule, ruleAllows, type Subject, subjectMatches } from "./rules.ts";

const res = (verb: string, group: string, resource: string, o: { sub?: string; name?: string; ns?: string } = {}): RequestAttributes => ({
  resourceRequest: true,
  path: "",
  verb,
  apiGroup: group,
  apiVersion: "v1",
  resource,
  subresource: o.sub ?? "",
  namespace: o.ns ?? "",
  name: o.name ?? "",
});
const url = (verb: string, path: string): RequestAttributes => ({ ...res(verb, "", ""), resourceRequest: false, path });

describe("ruleAllows", () => {
  const cases: [string, PolicyRule, RequestAttributes, boolean][] = [
    ["exact match", { verbs: ["get"], apiGroups: [""], resources: ["pods"] }, res("get", "", "pods"), true],
    ["verb mismatch", { verbs: ["get"], apiGroups: [""], resources: ["pods"] }, res("list", "", "pods"), false],
    ["star verb", { verbs: ["*"], apiGroups: [""], resources: ["pods"] }, res("deletecollection", "", "pods"), true],
    ["group mismatch", { verbs: ["get"], apiGroups: ["apps"], resources: ["pods"] }, res("get", "", "pods"), false],
    ["star group", { verbs: ["get"], apiGroups: ["*"], resources: ["deployments"] }, res("get", "apps", "deployments"), true],
    ["resource mismatch", { verbs: ["get"], apiGroups: [""], resources: ["pods"] }, res("get", "", "secrets"), false],
    ["star resource", { verbs: ["get"], apiGroups: [""], resources: ["*"] }, res("get", "", "secrets"), true],
    ["star resource covers subresources", { verbs: ["get"], apiGroups: [""], resources: ["*"] }, res("get", "", "pods", { sub: "log", name: "p" }), true],
    ["resource does not cover its subresource", { verbs: ["get"], apiGroups: [""], resources: ["pods"] }, res("get", "", "pods", { sub: "log", name: "p" }), false],
    ["resource/subresource", { verbs: ["get"], apiGroups: [""], resources: ["pods/log"] }, res("get", "", "pods", { sub: "log", name: "p" }), true],
    ["resource/subresource does not cover the resource", { verbs: ["get"], apiGroups: [""], resources: ["pods/log"] }, res("get", "", "pods", { name: "p" }), false],
    ["*/subresource", { verbs: ["update"], apiGroups: ["*"], resources: ["*/status"] }, res("update", "apps", "deployments", { sub: "status", name: "d" }), true],
    ["*/subresource other subresource", { verbs: ["update"], apiGroups: ["*"], resources: ["*/status"] }, res("update", "apps", "deployments", { sub: "scale", name: "d" }), false],
    ["*/subresource needs a subresource", { verbs: ["update"], apiGroups: ["*"], resources: ["*/status"] }, res("update", "apps", "deployments", { name: "d" }), false],
    ["resource/* is not a wildcard", { verbs: ["get"], apiGroups: [""], resources: ["pods/*"] }, res("get", "", "pods", { sub: "log", name: "p" }), false],
    ["resourceNames match", { verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["a", "b"] }, res("get", "", "secrets", { name: "b" }), true],
    ["resourceNames mismatch", { verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["a"] }, res("get", "", "secrets", { name: "c" }), false],
    ["resourceNames never match a nameless request", { verbs: ["list"], apiGroups: [""], resources: ["secrets"], resourceNames: ["a"] }, res("list", "", "secrets"), false],
    ["resourceNames with a field-selected list", { verbs: ["list"], apiGroups: [""], resources: ["secrets"], resourceNames: ["a"] }, attributesOf("GET", "/api/v1/namespaces/x/secrets", new URLSearchParams("fieldSelector=metadata.name=a")), true],
    ["resource rules never match non-resource requests", { verbs: ["get"], apiGroups: ["*"], resources: ["*"] }, url("get", "/healthz"), false],
    ["non-resource exact", { verbs: ["get"], nonResourceURLs: ["/healthz"] }, url("get", "/healthz"), true],
    ["non-resource other path", { verbs: ["get"], nonResourceURLs: ["/healthz"] }, url("get", "/healthz/etcd"), false],
    ["non-resource prefix*", { verbs: ["get"], nonResourceURLs: ["/apis/*"] }, url("get", "/apis/apps/v1"), true],
    ["non-resource prefix* needs the prefix", { verbs: ["get"], nonResourceURLs: ["/apis/*"] }, url("get", "/apis"), false],
    ["non-resource star", { verbs: ["get"], nonResourceURLs: ["*"] }, url("get", "/anything"), true],
    ["non-resource verb", { verbs: ["get"], nonResourceURLs: ["*"] }, url("post", "/anything"), false],
    ["non-resource rules never match resource requests", { verbs: ["*"], nonResourceURLs: ["*"] }, res("get", "", "pods"), false],
  ];
  for (const [what, rule, attrs, want] of cases) test(what, () => expect(ruleAllows(attrs, rule)).toBe(want));
});

describe("subjectMatches", () => {
  const alice: UserInfo = { name: "alice", groups: ["devs", "system:authenticated"] };
  const robot: UserInfo = { name: "system:serviceaccount:team-a:robot", groups: ["system:serviceaccounts", "system:serviceaccounts:team-a"] };
  const cases: [string, UserInfo, Subject, string, boolean][] = [
    ["user", alice, { kind: "User", name: "alice" }, "", true],
    ["other user", alice, { kind: "User", name: "bob" }, "", false],
    ["group", alice, { kind: "Group", name: "devs" }, "", true],
    ["a group name is not a user", alice, { kind: "User", name: "devs" }, "", false],
    ["service account with namespace", robot, { kind: "ServiceAccount", name: "robot", namespace: "team-a" }, "", true],
    ["service account defaults to the binding's namespace", robot, { kind: "ServiceAccount", name: "robot" }, "team-a", true],
    ["service account in another namespace", robot, { kind: "ServiceAccount", name: "robot" }, "team-b", false],
    ["service account without any namespace", robot, { kind: "ServiceAccount", name: "robot" }, "", false],
    ["service account name as a user", robot, { kind: "User", name: "system:serviceaccount:team-a:robot" }, "", true],
    ["unknown kind", alice, { kind: "Robot", name: "alice" }, "", false],
  ];
  for (const [what, user, subject, ns, want] of cases) test(what, () => expect(subjectMatches(user, subject, ns)).toBe(want));
});

describe("Covers and reconciliation", () => {
  test("breakdownRule expands groups × resources × verbs × names and urls × verbs", () => {
    expect(breakdownRule({ verbs: ["get", "list"], apiGroups: ["", "apps"], resources: ["pods"] })).toHaveLength(4);
    expect(breakdownRule({ verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["a", "b"] })).toEqual([
      { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["a"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["b"] },
    ]);
    expect(breakdownRule({ verbs: ["get"], nonResourceURLs: ["/a", "/b"] })).toEqual([
      { nonResourceURLs: ["/a"], verbs: ["get"] },
      { nonResourceURLs: ["/b"], verbs: ["get"] },
    ]);
  });

  test("uncoveredRules", () => {
    const owner: PolicyRule[] = [
      { verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "*/status"] },
      { verbs: ["get"], nonResourceURLs: ["/apis/*"] },
    ];
    expect(uncoveredRules(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["pods", "services/status"] }])).toEqual([]);
    expect(uncoveredRules(owner, [{ verbs: ["get", "watch"], apiGroups: [""], resources: ["pods"] }])).toEqual([{ apiGroups: [""], resources: ["pods"], verbs: ["watch"] }]);
    expect(uncoveredRules(owner, [{ verbs: ["get"], nonResourceURLs: ["/apis/apps", "/api"] }])).toEqual([{ nonResourceURLs: ["/api"], verbs: ["get"] }]);
    expect(uncoveredRules([{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }], [{ verbs: ["get"], apiGroups: ["x"], resources: ["y"], resourceNames: ["z"] }])).toEqual([]);
    expect(uncoveredRules([{ verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["a"] }], [{ verbs: ["get"], apiGroups: [""], resources: ["secrets"] }])).toHaveLength(1);
  });

  const role = (rules: PolicyRule[], meta: Record<string, unknown> = {}) => ({ metadata: { name: "r", ...meta }, rules });

  test("a role gains missing rules, labels and annotations; existing ones are kept", () => {
    const existing = role([{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }, { verbs: ["delete"], apiGroups: [""], resources: ["nodes"] }], { labels: { a: "mine" } });
    const expected = role([{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }], { labels: { a: "theirs", b: "1" }, annotations: { x: "y" } });
    expect(reconcileRole(existing, expected)).toMatchObject({
      metadata: { labels: { a: "mine", b: "1" }, annotations: { x: "y" } },
      rules: [...existing.rules, { apiGroups: [""], resources: ["pods"], verbs: ["list"] }],
    });
    expect(reconcileRole(reconcileRole(existing, expected)!, expected)).toBeUndefined();
  });

  test("autoupdate=false protects a role and a binding", () => {
    const existing = role([], { annotations: { "rbac.authorization.kubernetes.io/autoupdate": "false" } });
    expect(reconcileRole(existing, role([{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }]))).toBeUndefined();
    const b = { metadata: { name: "b", annotations: { "rbac.authorization.kubernetes.io/autoupdate": "false" } }, roleRef: { kind: "ClusterRole", name: "x" } };
    expect(reconcileBinding(b, { metadata: { name: "b" }, roleRef: { kind: "ClusterRole", name: "y" }, subjects: [{ kind: "Group", name: "g" }] })).toBeUndefined();
  });

  test("a binding gains missing subjects; a changed roleRef means recreate", () => {
    const want = { metadata: { name: "b" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "x" }, subjects: [{ kind: "Group", name: "g" }] };
    const existing = { metadata: { name: "b" }, roleRef: want.roleRef, subjects: [{ kind: "User", name: "u" }] };
    expect(reconcileBinding(existing, want)).toEqual({
      op: "update",
      binding: { metadata: { name: "b" }, roleRef: want.roleRef, subjects: [{ kind: "User", name: "u" }, { kind: "Group", name: "g" }] },
    });
    expect(reconcileBinding({ ...existing, subjects: [{ kind: "Group", name: "g" }] }, want)).toBeUndefined();
    expect(reconcileBinding({ ...existing, roleRef: { ...want.roleRef, name: "old" } }, want)?.op).toBe("recreate");
  });
});

describe("aggregatedRules", () => {
  const role = (name: string, labels: Record<string, string>, rules: PolicyRule[]) => ({ metadata: { name, labels }, rules });
  test("selectors in order, matches by name, duplicates dropped, itself excluded", () => {
    const agg = { metadata: { name: "agg", labels: { a: "true" } }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: "true" } }, { matchExpressions: [{ key: "b", operator: "Exists" }] }] }, rules: [{ verbs: ["x"] }] };
    const r1: PolicyRule = { verbs: ["get"], apiGroups: [""], resources: ["pods"] };
    const r2: PolicyRule = { verbs: ["list"], apiGroups: [""], resources: ["pods"] };
    const r3: PolicyRule = { verbs: ["get"], apiGroups: [""], resources: ["secrets"] };
    const all = [agg, role("z-role", { a: "true" }, [r1]), role("m-role", { a: "true" }, [r2, r1]), role("b-role", { b: "" }, [r3, r2]), role("other", { c: "true" }, [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }])];
    expect(aggregatedRules(agg, all)).toEqual([r2, r1, r3]);
    expect(aggregatedRules({ metadata: { name: "plain" }, rules: [] }, all)).toBeUndefined();
  });
});
