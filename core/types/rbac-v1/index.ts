/**
 * @module rbac.authorization.k8s.io/v1: Role, ClusterRole (aggregationRule),
 * RoleBinding and ClusterRoleBinding — schemas, subject/roleRef apiGroup
 * defaults, upstream's policy-rule, roleRef and subject validation (roleRef
 * immutable on update), path-segment names, the CREATED AT and ROLE / USERS /
 * GROUPS / SERVICEACCOUNTS columns.
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit, TableColumn } from "../../api/registry.ts";
import { goQuote, isDNS1123Subdomain, validateName } from "../../api/validation.ts";
import { LABEL_SELECTOR, OBJECT_META } from "../meta-schemas.ts";
import { child, fieldInvalid, fieldInvalidRendered, fieldNotSupported, fieldRequired, index } from "../field-errors.ts";
import { asArr, asObj, asStr, ensureObj, objsAt, setDefault, strAt, type JsonObject } from "../object-access.ts";
import { atomic, kindSchema, obj, ref, str } from "../schema-dsl.ts";
import { ageColumn, column, createdAtColumn, nameColumn } from "../table.ts";
import { validateLabelSelector } from "../core-v1/common-validation.ts";

const RBAC = "io.k8s.api.rbac.v1";
export const RBAC_GROUP = "rbac.authorization.k8s.io";

const POLICY_RULE = obj(
  `${RBAC}.PolicyRule`,
  { apiGroups: atomic(str()), nonResourceURLs: atomic(str()), resourceNames: atomic(str()), resources: atomic(str()), verbs: atomic(str()) },
  { required: ["verbs"] },
);
const SUBJECT = obj(`${RBAC}.Subject`, { apiGroup: str(), kind: str(), name: str(), namespace: str() }, { required: ["kind", "name"], mapType: "atomic" });
const ROLE_REF = obj(`${RBAC}.RoleRef`, { apiGroup: str(), kind: str(), name: str() }, { required: ["apiGroup", "kind", "name"], mapType: "atomic" });

function gvk(kind: string) {
  return { group: RBAC_GROUP, version: "v1", kind };
}

export const ROLE_SCHEMA = kindSchema(`${RBAC}.Role`, gvk("Role"), ref(OBJECT_META), { rules: atomic(POLICY_RULE) });
export const CLUSTER_ROLE_SCHEMA = kindSchema(`${RBAC}.ClusterRole`, gvk("ClusterRole"), ref(OBJECT_META), {
  aggregationRule: obj(`${RBAC}.AggregationRule`, { clusterRoleSelectors: atomic(LABEL_SELECTOR) }),
  rules: atomic(POLICY_RULE),
});
export const ROLE_BINDING_SCHEMA = kindSchema(`${RBAC}.RoleBinding`, gvk("RoleBinding"), ref(OBJECT_META), {
  roleRef: ref(ROLE_REF),
  subjects: atomic(SUBJECT),
});
ROLE_BINDING_SCHEMA.required = ["roleRef"];
export const CLUSTER_ROLE_BINDING_SCHEMA = kindSchema(`${RBAC}.ClusterRoleBinding`, gvk("ClusterRoleBinding"), ref(OBJECT_META), {
  roleRef: ref(ROLE_REF),
  subjects: atomic(SUBJECT),
});
CLUSTER_ROLE_BINDING_SCHEMA.required = ["roleRef"];

/** Go's `%#v` of a []string. */
function goStrings(v: unknown[]): string {
  return `[]string{${v.map((x) => goQuote(String(x))).join(", ")}}`;
}

/** ValidatePolicyRule. */
function validateRules(o: KubeObject, namespaced: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  asArr(o.rules).forEach((raw, i) => {
    const r = asObj(raw) ?? {};
    const p = index("rules", i);
    if (asArr(r.verbs).length === 0) causes.push(fieldRequired(child(p, "verbs"), "verbs must contain at least one value"));
    const urls = asArr(r.nonResourceURLs);
    if (urls.length > 0) {
      if (namespaced) causes.push(fieldInvalidRendered(child(p, "nonResourceURLs"), goStrings(urls), "namespaced rules cannot apply to non-resource URLs"));
      if (asArr(r.apiGroups).length > 0 || asArr(r.resources).length > 0 || asArr(r.resourceNames).length > 0) {
        causes.push(fieldInvalidRendered(child(p, "nonResourceURLs"), goStrings(urls), "rules cannot apply to both regular resources and non-resource URLs"));
      }
      return;
    }
    if (asArr(r.apiGroups).length === 0) causes.push(fieldRequired(child(p, "apiGroups"), "resource rules must supply at least one api group"));
    if (asArr(r.resources).length === 0) causes.push(fieldRequired(child(p, "resources"), "resource rules must supply at least one resource"));
  });
  return causes;
}

function validateClusterRole(o: KubeObject): StatusCause[] {
  const causes = validateRules(o, false);
  const agg = asObj(o.aggregationRule);
  if (agg) {
    const selectors = asArr(agg.clusterRoleSelectors);
    if (selectors.length === 0) {
      causes.push(fieldRequired("aggregationRule.clusterRoleSelectors", "at least one clusterRoleSelector required if aggregationRule is non-nil"));
    }
    selectors.forEach((s, i) => causes.push(...validateLabelSelector(s, index("aggregationRule.clusterRoleSelectors", i))));
  }
  return causes;
}

/** ValidateRoleBindingSubject. */
function validateSubject(s: JsonObject, namespaced: boolean, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = asStr(s.name) ?? "";
  if (name === "") causes.push(fieldRequired(child(path, "name")));
  const apiGroup = asStr(s.apiGroup) ?? "";
  switch (s.kind) {
    case "ServiceAccount":
      if (name !== "") for (const m of isDNS1123Subdomain(name)) causes.push(fieldInvalid(child(path, "name"), name, m));
      if (apiGroup !== "") causes.push(fieldNotSupported(child(path, "apiGroup"), apiGroup, [""]));
      if (!namespaced && (asStr(s.namespace) ?? "") === "") causes.push(fieldRequired(child(path, "namespace")));
      break;
    case "User":
    case "Group":
      if (apiGroup !== RBAC_GROUP) causes.push(fieldNotSupported(child(path, "apiGroup"), apiGroup, [RBAC_GROUP]));
      break;
    default:
      causes.push(fieldNotSupported(child(path, "kind"), s.kind ?? "", ["ServiceAccount", "User", "Group"]));
  }
  return causes;
}

function goRoleRef(r: JsonObject): string {
  return `rbac.RoleRef{APIGroup:${goQuote(String(r.apiGroup ?? ""))}, Kind:${goQuote(String(r.kind ?? ""))}, Name:${goQuote(String(r.name ?? ""))}}`;
}

/** ValidateRoleBinding / ValidateClusterRoleBinding (+ the roleRef immutability of their updates). */
function validateBinding(o: KubeObject, old: KubeObject | undefined, namespaced: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const roleRef = asObj(o.roleRef) ?? {};
  const apiGroup = asStr(roleRef.apiGroup) ?? "";
  if (apiGroup !== RBAC_GROUP) causes.push(fieldNotSupported("roleRef.apiGroup", apiGroup, [RBAC_GROUP]));
  const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
  const kind = asStr(roleRef.kind) ?? "";
  if (!kinds.includes(kind)) causes.push(fieldNotSupported("roleRef.kind", kind, kinds));
  const name = asStr(roleRef.name) ?? "";
  if (name === "") causes.push(fieldRequired("roleRef.name"));
  else for (const m of validateName(name, "path", false)) causes.push(fieldInvalid("roleRef.name", name, m));
  asArr(o.subjects).forEach((s, i) => causes.push(...validateSubject(asObj(s) ?? {}, namespaced, index("subjects", i))));
  if (old) {
    const before = asObj(old.roleRef) ?? {};
    if (["apiGroup", "kind", "name"].some((k) => (roleRef[k] ?? "") !== (before[k] ?? ""))) {
      causes.push(fieldInvalidRendered("roleRef", goRoleRef(roleRef), "cannot change roleRef"));
    }
  }
  return causes;
}

/** SetDefaults_RoleBinding / SetDefaults_ClusterRoleBinding and SetDefaults_Subject. */
function defaultBinding(o: KubeObject): void {
  setDefault(ensureObj(o as JsonObject, "roleRef"), "apiGroup", RBAC_GROUP);
  for (const s of objsAt(o, "subjects")) {
    if ((asStr(s.apiGroup) ?? "") !== "") continue;
    if (s.kind === "User" || s.kind === "Group") s.apiGroup = RBAC_GROUP;
    else if (s.kind === "ServiceAccount") s.apiGroup = "";
  }
}

/** SubjectsStrings: users, groups, `namespace/name` service accounts, joined with ", ". */
function subjects(o: KubeObject, kind: string): string {
  return objsAt(o, "subjects")
    .filter((s) => s.kind === kind)
    .map((s) => (kind === "ServiceAccount" ? `${String(s.namespace ?? "")}/${String(s.name ?? "")}` : String(s.name ?? "")))
    .join(", ");
}

function bindingColumns(what: string, roleRefDoc: string): TableColumn[] {
  return [
    nameColumn(),
    column("Role", "string", roleRefDoc, (o) => `${strAt(o, "roleRef", "kind")}/${strAt(o, "roleRef", "name")}`),
    ageColumn(),
    column("Users", "string", `Users in the ${what}`, (o) => subjects(o, "User"), 1),
    column("Groups", "string", `Groups in the ${what}`, (o) => subjects(o, "Group"), 1),
    column("ServiceAccounts", "string", `ServiceAccounts in the ${what}`, (o) => subjects(o, "ServiceAccount"), 1),
  ];
}

const ROLE_REF_DOC =
  "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.";
const CLUSTER_ROLE_REF_DOC = "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.";

function rbacType(kind: string, plural: string, namespaced: boolean, rest: Partial<ResourceTypeInit>): ResourceTypeInit {
  return { group: RBAC_GROUP, version: "v1", kind, plural, singular: kind.toLowerCase(), namespaced, tracksGeneration: false, nameValidation: "path", ...rest };
}

export const roleType = rbacType("Role", "roles", true, {
  schema: ROLE_SCHEMA,
  columns: [nameColumn(), createdAtColumn()],
  strategy: { validate: (o) => validateRules(o, true) },
});

export const clusterRoleType = rbacType("ClusterRole", "clusterroles", false, {
  schema: CLUSTER_ROLE_SCHEMA,
  columns: [nameColumn(), createdAtColumn()],
  strategy: { validate: validateClusterRole },
});

export const roleBindingType = rbacType("RoleBinding", "rolebindings", true, {
  schema: ROLE_BINDING_SCHEMA,
  columns: bindingColumns("roleBinding", ROLE_REF_DOC),
  strategy: { defaults: defaultBinding, validate: (o, old) => validateBinding(o, old, true) },
});

export const clusterRoleBindingType = rbacType("ClusterRoleBinding", "clusterrolebindings", false, {
  schema: CLUSTER_ROLE_BINDING_SCHEMA,
  columns: bindingColumns("clusterRoleBinding", CLUSTER_ROLE_REF_DOC),
  strategy: { defaults: defaultBinding, validate: (o, old) => validateBinding(o, old, false) },
});

/** Every rbac.authorization.k8s.io/v1 kind, in discovery order. */
export function rbacV1Types(): ResourceTypeInit[] {
  return [clusterRoleBindingType, clusterRoleType, roleBindingType, roleType];
}
