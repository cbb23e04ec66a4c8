/**
 * @module authorization.k8s.io/v1: SelfSubjectAccessReview,
 * SubjectAccessReview, LocalSubjectAccessReview and SelfSubjectRulesReview —
 * schemas and upstream's validation (`pkg/apis/authorization/validation`).
 * They are create-only and never stored: a review is answered by the
 * configured authorizer (core/server/auth/rbac/review.ts). They are not part
 * of `builtinTypes()` because the registry and discovery cannot yet say
 * "create only" (a registered type advertises list/watch/delete, which the
 * garbage collector and namespace controller would then call).
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { formatBadValue } from "../../api/validation.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { asObj, asStr } from "../object-access.ts";
import { arr, bool, kindSchema, map, obj, ref, str } from "../schema-dsl.ts";

export const AUTHORIZATION_GROUP = "authorization.k8s.io";
const AUTHZ = "io.k8s.api.authorization.v1";

const FIELD_SELECTOR_ATTRIBUTES = obj(`${AUTHZ}.FieldSelectorAttributes`, {
  rawSelector: str(),
  requirements: arr(obj("io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement", { key: str(), operator: str(), values: arr(str()) })),
});
const LABEL_SELECTOR_ATTRIBUTES = obj(`${AUTHZ}.LabelSelectorAttributes`, {
  rawSelector: str(),
  requirements: arr(obj("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", { key: str(), operator: str(), values: arr(str()) })),
});
const RESOURCE_ATTRIBUTES = obj(`${AUTHZ}.ResourceAttributes`, {
  fieldSelector: ref(FIELD_SELECTOR_ATTRIBUTES),
  group: str(),
  labelSelector: ref(LABEL_SELECTOR_ATTRIBUTES),
  name: str(),
  namespace: str(),
  resource: str(),
  subresource: str(),
  verb: str(),
  version: str(),
});
const NON_RESOURCE_ATTRIBUTES = obj(`${AUTHZ}.NonResourceAttributes`, { path: str(), verb: str() });
const SAR_STATUS = obj(
  `${AUTHZ}.SubjectAccessReviewStatus`,
  { allowed: bool(), denied: bool(), evaluationError: str(), reason: str() },
  { required: ["allowed"] },
);
const SAR_SPEC = obj(`${AUTHZ}.SubjectAccessReviewSpec`, {
  extra: map(arr(str())),
  groups: arr(str()),
  nonResourceAttributes: ref(NON_RESOURCE_ATTRIBUTES),
  resourceAttributes: ref(RESOURCE_ATTRIBUTES),
  uid: str(),
  user: str(),
});
const SSAR_SPEC = obj(`${AUTHZ}.SelfSubjectAccessReviewSpec`, {
  nonResourceAttributes: ref(NON_RESOURCE_ATTRIBUTES),
  resourceAttributes: ref(RESOURCE_ATTRIBUTES),
});
const RESOURCE_RULE = obj(
  `${AUTHZ}.ResourceRule`,
  { apiGroups: arr(str()), resourceNames: arr(str()), resources: arr(str()), verbs: arr(str()) },
  { required: ["verbs"] },
);
const NON_RESOURCE_RULE = obj(`${AUTHZ}.NonResourceRule`, { nonResourceURLs: arr(str()), verbs: arr(str()) }, { required: ["verbs"] });
const SSRR_STATUS = obj(
  `${AUTHZ}.SubjectRulesReviewStatus`,
  { evaluationError: str(), incomplete: bool(), nonResourceRules: arr(NON_RESOURCE_RULE), resourceRules: arr(RESOURCE_RULE) },
  { required: ["resourceRules", "nonResourceRules", "incomplete"] },
);

const gvk = (kind: string) => ({ group: AUTHORIZATION_GROUP, version: "v1", kind });

export const SUBJECT_ACCESS_REVIEW_SCHEMA = kindSchema(`${AUTHZ}.SubjectAccessReview`, gvk("SubjectAccessReview"), ref(OBJECT_META), {
  spec: ref(SAR_SPEC),
  status: ref(SAR_STATUS),
});
SUBJECT_ACCESS_REVIEW_SCHEMA.required = ["spec"];
export const SELF_SUBJECT_ACCESS_REVIEW_SCHEMA = kindSchema(`${AUTHZ}.SelfSubjectAccessReview`, gvk("SelfSubjectAccessReview"), ref(OBJECT_META), {
  spec: ref(SSAR_SPEC),
  status: ref(SAR_STATUS),
});
SELF_SUBJECT_ACCESS_REVIEW_SCHEMA.required = ["spec"];
export const LOCAL_SUBJECT_ACCESS_REVIEW_SCHEMA = kindSchema(`${AUTHZ}.LocalSubjectAccessReview`, gvk("LocalSubjectAccessReview"), ref(OBJECT_META), {
  spec: ref(SAR_SPEC),
  status: ref(SAR_STATUS),
});
LOCAL_SUBJECT_ACCESS_REVIEW_SCHEMA.required = ["spec"];
export const SELF_SUBJECT_RULES_REVIEW_SCHEMA = kindSchema(`${AUTHZ}.SelfSubjectRulesReview`, gvk("SelfSubjectRulesReview"), ref(OBJECT_META), {
  spec: ref(obj(`${AUTHZ}.SelfSubjectRulesReviewSpec`, { namespace: str() })),
  status: ref(SSRR_STATUS),
});
SELF_SUBJECT_RULES_REVIEW_SCHEMA.required = ["spec"];

function invalid(field: string, value: unknown, detail: string): StatusCause {
  return { reason: "FieldValueInvalid", field, message: `Invalid value: ${formatBadValue(value)}: ${detail}` };
}

/** ValidateSelfSubjectAccessReviewSpec: exactly one of resourceAttributes / nonResourceAttributes. */
function validateAttributes(spec: Record<string, unknown>): StatusCause[] {
  const causes: StatusCause[] = [];
  const ra = asObj(spec.resourceAttributes);
  const nra = asObj(spec.nonResourceAttributes);
  if (ra && nra) causes.push(invalid("spec.nonResourceAttributes", nra, "cannot be specified in combination with resourceAttributes"));
  if (!ra && !nra) causes.push(invalid("spec.resourceAttributes", null, "exactly one of nonResourceAttributes or resourceAttributes must be specified"));
  return causes;
}

/** Metadata must be empty (but for managedFields and, for the local kind, the namespace). */
function validateEmptyMeta(o: KubeObject, allowNamespace: boolean): StatusCause[] {
  const { managedFields: _m, ...rest } = (o.metadata ?? {}) as Record<string, unknown>;
  if (allowNamespace) delete rest.namespace;
  const empty = (v: unknown) => v === undefined || v === null || v === "" || (typeof v === "object" && Object.keys(v as object).length === 0);
  if (Object.values(rest).every(empty)) return [];
  return [invalid("metadata", o.metadata, allowNamespace ? "must be empty except for namespace" : "must be empty")];
}

/** ValidateSubjectAccessReviewSpec: the attribute rule plus a user or a group. */
function validateSarSpec(o: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes = validateAttributes(spec);
  const userName = asStr(spec.user) ?? "";
  const groups = Array.isArray(spec.groups) ? spec.groups : [];
  if (userName === "" && groups.length === 0) causes.push(invalid("spec.user", userName, "at least one of user or group must be specified"));
  return causes;
}

function reviewType(kind: string, plural: string, namespaced: boolean, schema: ResourceTypeInit["schema"], validate: (o: KubeObject) => StatusCause[]): ResourceTypeInit {
  return { group: AUTHORIZATION_GROUP, version: "v1", kind, plural, singular: kind.toLowerCase(), namespaced, tracksGeneration: false, schema, strategy: { validate } };
}

export const selfSubjectAccessReviewType = reviewType("SelfSubjectAccessReview", "selfsubjectaccessreviews", false, SELF_SUBJECT_ACCESS_REVIEW_SCHEMA, (o) => [
  ...validateAttributes(asObj(o.spec) ?? {}),
]);
export const subjectAccessReviewType = reviewType("SubjectAccessReview", "subjectaccessreviews", false, SUBJECT_ACCESS_REVIEW_SCHEMA, (o) => [
  ...validateSarSpec(o),
  ...validateEmptyMeta(o, false),
]);
export const localSubjectAccessReviewType = reviewType("LocalSubjectAccessReview", "localsubjectaccessreviews", true, LOCAL_SUBJECT_ACCESS_REVIEW_SCHEMA, (o) => {
  const causes = [...validateSarSpec(o), ...validateEmptyMeta(o, true)];
  if (asObj(asObj(o.spec)?.nonResourceAttributes)) causes.push(invalid("spec.nonResourceAttributes", asObj(o.spec)!.nonResourceAttributes, "disallowed on this kind of request"));
  return causes;
});
export const selfSubjectRulesReviewType = reviewType("SelfSubjectRulesReview", "selfsubjectrulesreviews", false, SELF_SUBJECT_RULES_REVIEW_SCHEMA, () => []);

/** Every authorization.k8s.io/v1 kind, in discovery order (create-only; see the module note). */
export function authorizationV1Types(): ResourceTypeInit[] {
  return [localSubjectAccessReviewType, selfSubjectAccessReviewType, selfSubjectRulesReviewType, subjectAccessReviewType];
}
