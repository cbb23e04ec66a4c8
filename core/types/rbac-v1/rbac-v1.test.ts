/** @module Tests for rbac.authorization.k8s.io/v1: apiGroup defaults, rule/roleRef/subject validation, roleRef immutability, columns. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { admitCreate, admitUpdate, describeCauses } from "../test-helpers.ts";
import { clusterRoleBindingType, clusterRoleType, roleBindingType, roleType } from "./index.ts";

const NOW = Date.parse("2024-06-01T12:00:00Z");
const cells = (t: ResourceTypeInit, o: unknown) => (t.columns ?? []).map((c) => c.cell(o as KubeObject, NOW));

function binding(extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "read", namespace: "dev", creationTimestamp: "2024-06-01T11:00:00Z" },
    roleRef: { kind: "ClusterRole", name: "view" },
    subjects: [
      { kind: "User", name: "jane" },
      { kind: "Group", name: "devs" },
      { kind: "ServiceAccount", name: "ci", namespace: "dev" },
    ],
    ...extra,
  };
}

describe("Role / ClusterRole", () => {
  test("rule validation", () => {
    const role = { metadata: { name: "r", namespace: "dev" }, rules: [{ resources: ["pods"] }, { verbs: ["get"], nonResourceURLs: ["/healthz"], resources: ["pods"] }] };
    expect(describeCauses(admitCreate(roleType, role).causes)).toEqual([
      "rules[0].verbs: Required value: verbs must contain at least one value",
      "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
      'rules[1].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs',
      'rules[1].nonResourceURLs: Invalid value: []string{"/healthz"}: rules cannot apply to both regular resources and non-resource URLs',
    ]);
    expect(admitCreate(clusterRoleType, { metadata: { name: "c" }, rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz"] }] }).causes).toEqual([]);
  });

  test("aggregationRule needs selectors", () => {
    expect(describeCauses(admitCreate(clusterRoleType, { metadata: { name: "agg" }, aggregationRule: {} }).causes)).toEqual([
      "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil",
    ]);
  });

  test("NAME CREATED AT", () => {
    expect(cells(roleType, { metadata: { name: "r", creationTimestamp: "2024-06-01T11:00:00Z" } })).toEqual(["r", "2024-06-01T11:00:00Z"]);
    expect(roleType.columns?.map((c) => [c.name, c.type])).toEqual([
      ["Name", "string"],
      ["Created At", "date"],
    ]);
    expect(roleType.nameValidation).toBe("path");
  });
});

describe("RoleBinding / ClusterRoleBinding", () => {
  test("apiGroup defaults for roleRef and subjects", () => {
    const { obj, causes } = admitCreate(roleBindingType, binding());
    expect(causes).toEqual([]);
    expect(obj.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" });
    expect(obj.subjects).toEqual([
      { kind: "User", name: "jane", apiGroup: "rbac.authorization.k8s.io" },
      { kind: "Group", name: "devs", apiGroup: "rbac.authorization.k8s.io" },
      { kind: "ServiceAccount", name: "ci", namespace: "dev", apiGroup: "" },
    ]);
  });

  test("roleRef and subject validation", () => {
    const { causes } = admitCreate(clusterRoleBindingType, { ...binding({ roleRef: { kind: "Role", name: "" }, subjects: [{ kind: "ServiceAccount", name: "ci" }, { kind: "Robot", name: "r" }] }), kind: "ClusterRoleBinding" });
    expect(describeCauses(causes)).toEqual([
      'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
      "roleRef.name: Required value",
      "subjects[0].namespace: Required value",
      'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    ]);
  });

  test("roleRef is immutable", () => {
    const old = admitCreate(roleBindingType, binding()).obj;
    const { causes } = admitUpdate(roleBindingType, { ...old, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" } }, old);
    expect(describeCauses(causes)).toEqual([
      'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
    ]);
  });

  test("ROLE AGE and wide USERS GROUPS SERVICEACCOUNTS", () => {
    const o = admitCreate(roleBindingType, binding()).obj;
    expect(cells(roleBindingType, o)).toEqual(["read", "ClusterRole/view", "60m", "jane", "devs", "dev/ci"]);
    expect(roleBindingType.columns?.map((c) => [c.name, c.priority])).toEqual([
      ["Name", 0],
      ["Role", 0],
      ["Age", 0],
      ["Users", 1],
      ["Groups", 1],
      ["ServiceAccounts", 1],
    ]);
  });
});
