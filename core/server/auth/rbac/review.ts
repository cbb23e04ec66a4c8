/**
 * @module authorization.k8s.io/v1 reviews, answered by the configured
 * authorizer and never stored (upstream's `pkg/registry/authorization`):
 *
 * - SelfSubjectAccessReview: may the requesting user do this? (`kubectl auth can-i`)
 * - SubjectAccessReview / LocalSubjectAccessReview: may `spec.user`/`spec.groups` do this?
 * - SelfSubjectRulesReview: what may the requesting user do in a namespace? (`kubectl auth can-i --list`)
 *
 * The requesting user is `requestUser(req)`, set by the authentication
 * stage. When no authentication stage ran (an in-process request, or a
 * server without authentication), the request is answered as the in-process
 * admin, `IN_PROCESS_ADMIN` (`system:admin` in `system:masters`), because
 * that is who such a request acts as.
 *
 * Each is a `CreateOnlyResource` the API server routes POSTs of the
 * collection to (`ApiServerOptions.createOnly`); every other method is 405.
 */
import { errors } from "../../../api/errors.ts";
import type { KubeObject } from "../../../api/meta.ts";
import type { ResourceTypeInit } from "../../../api/registry.ts";
import {
  localSubjectAccessReviewType,
  selfSubjectAccessReviewType,
  selfSubjectRulesReviewType,
  subjectAccessReviewType,
} from "../../../types/authorization-v1/index.ts";
import { mediaType, readBody, readDecoded } from "../../request.ts";
import { jsonText } from "../../respond.ts";
import { Groups, requestUser, type Authorizer, type RequestAttributes, type UserInfo } from "../types.ts";
import { decodeReviewProtobuf } from "./review-protobuf.ts";
import { isRuleResolver, type SubjectRules } from "./rule-resolver.ts";

/** Who a request with no authenticated user acts as (the kernel's in-process client). */
export const IN_PROCESS_ADMIN: UserInfo = Object.freeze({ name: "system:admin", groups: Object.freeze([Groups.masters, Groups.authenticated]) as string[] });

/** What the API server needs to route a create-only kind (mirrors app.ts's CreateOnlyResource). */
export interface ReviewResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly namespaced: boolean;
  /** Answers a POST to the collection; `namespace` is "" for cluster-scoped kinds. */
  create(req: Request, namespace: string): Promise<Response>;
}

interface ResourceAttributesSpec {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

interface NonResourceAttributesSpec {
  path?: string;
  verb?: string;
}

interface ReviewObject extends KubeObject {
  spec?: {
    resourceAttributes?: ResourceAttributesSpec;
    nonResourceAttributes?: NonResourceAttributesSpec;
    user?: string;
    groups?: string[];
    uid?: string;
    extra?: Record<string, string[]>;
    namespace?: string;
  };
  status?: unknown;
}

const s = (v: unknown): string => (typeof v === "string" ? v : "");

/** ResourceAttributesFrom / NonResourceAttributesFrom. */
export function reviewAttributes(spec: NonNullable<ReviewObject["spec"]>): RequestAttributes {
  const ra = spec.resourceAttributes;
  if (ra) {
    return {
      resourceRequest: true,
      path: "",
      verb: s(ra.verb),
      apiGroup: s(ra.group),
      apiVersion: s(ra.version) || "*",
      resource: s(ra.resource),
      subresource: s(ra.subresource),
      namespace: s(ra.namespace),
      name: s(ra.name),
    };
  }
  const nra = spec.nonResourceAttributes ?? {};
  return { resourceRequest: false, path: s(nra.path), verb: s(nra.verb), apiGroup: "", apiVersion: "", resource: "", subresource: "", namespace: "", name: "" };
}

async function readReview(req: Request, type: ResourceTypeInit, namespace: string): Promise<ReviewObject> {
  const value =
    mediaType(req.headers.get("content-type")) === "application/vnd.kubernetes.protobuf"
      ? decodeReviewProtobuf(await readBody(req), { apiVersion: `${type.group}/${type.version}`, kind: type.kind })
      : await readDecoded(req);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw errors.badRequest(`${type.kind} in version "v1" cannot be handled as a ${type.kind}: the body must be a JSON object`);
  }
  const o = value as ReviewObject;
  const want = `${type.group}/${type.version}`;
  if (o.apiVersion !== undefined && o.apiVersion !== want) {
    throw errors.badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${want})`);
  }
  if (o.kind !== undefined && o.kind !== type.kind) throw errors.badRequest(`the kind in the data (${String(o.kind)}) does not match the expected kind (${type.kind})`);
  if (o.metadata === undefined || o.metadata === null) o.metadata = {};
  if (typeof o.metadata !== "object" || Array.isArray(o.metadata)) throw errors.badRequest(`${type.kind} in version "v1" cannot be handled as a ${type.kind}: metadata must be an object`);
  if (type.namespaced) {
    if (!o.metadata.namespace) o.metadata.namespace = namespace;
    else if (o.metadata.namespace !== namespace) throw errors.badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  if (o.spec !== undefined && (o.spec === null || typeof o.spec !== "object" || Array.isArray(o.spec))) {
    throw errors.badRequest(`${type.kind} in version "v1" cannot be handled as a ${type.kind}: spec must be an object`);
  }
  o.spec ??= {};
  const causes = type.strategy?.validate?.(o) ?? [];
  if (causes.length > 0) throw errors.invalid({ kind: type.kind, group: type.group, name: "", causes });
  return o;
}

function answer(type: ResourceTypeInit, o: ReviewObject, status: unknown): Response {
  const { apiVersion: _a, kind: _k, status: _s, ...rest } = o;
  return jsonText(JSON.stringify({ kind: type.kind, apiVersion: `${type.group}/${type.version}`, ...rest, status }), 201);
}

function requester(req: Request): UserInfo {
  return requestUser(req)?.user ?? IN_PROCESS_ADMIN;
}

/** The status of an access review (allowed/denied/reason/evaluationError). */
async function decide(authorizer: Authorizer, user: UserInfo, attrs: RequestAttributes): Promise<Record<string, unknown>> {
  try {
    const r = await authorizer.authorize(user, attrs);
    return { allowed: r.decision === "allow", ...(r.decision === "deny" ? { denied: true } : {}), ...(r.reason ? { reason: r.reason } : {}) };
  } catch (e) {
    return { allowed: false, evaluationError: e instanceof Error ? e.message : String(e) };
  }
}

function resource(type: ResourceTypeInit, create: (req: Request, namespace: string) => Promise<Response>): ReviewResource {
  return { group: type.group, version: type.version, resource: type.plural, namespaced: type.namespaced, create };
}

/**
 * The four review resources, answering with `authorizer()` (a getter, so the
 * API server can be built before the informer-backed authorizer exists).
 */
export function reviewResources(authorizer: () => Authorizer): ReviewResource[] {
  return [
    resource(selfSubjectAccessReviewType, async (req) => {
      const o = await readReview(req, selfSubjectAccessReviewType, "");
      return answer(selfSubjectAccessReviewType, o, await decide(authorizer(), requester(req), reviewAttributes(o.spec!)));
    }),
    resource(subjectAccessReviewType, async (req) => {
      const o = await readReview(req, subjectAccessReviewType, "");
      const spec = o.spec!;
      const user: UserInfo = {
        name: s(spec.user),
        groups: Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === "string") : [],
        ...(spec.uid ? { uid: s(spec.uid) } : {}),
        ...(spec.extra && typeof spec.extra === "object" ? { extra: spec.extra } : {}),
      };
      return answer(subjectAccessReviewType, o, await decide(authorizer(), user, reviewAttributes(spec)));
    }),
    resource(localSubjectAccessReviewType, async (req, namespace) => {
      const o = await readReview(req, localSubjectAccessReviewType, namespace);
      const spec = o.spec!;
      if (s(spec.resourceAttributes?.namespace) !== namespace) {
        throw errors.badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
      }
      const user: UserInfo = { name: s(spec.user), groups: Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === "string") : [] };
      return answer(localSubjectAccessReviewType, o, await decide(authorizer(), user, reviewAttributes(spec)));
    }),
    resource(selfSubjectRulesReviewType, async (req) => {
      const o = await readReview(req, selfSubjectRulesReviewType, "");
      const namespace = s(o.spec!.namespace);
      if (namespace === "") throw errors.badRequest("no namespace on request");
      const a = authorizer();
      let rules: SubjectRules;
      if (isRuleResolver(a)) {
        try {
          rules = await a.rulesFor(requester(req), namespace);
        } catch (e) {
          rules = { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: e instanceof Error ? e.message : String(e) };
        }
      } else {
        rules = { resourceRules: [], nonResourceRules: [], incomplete: true };
      }
      const status = {
        resourceRules: rules.resourceRules.map((r) => ({
          verbs: r.verbs,
          ...(r.apiGroups.length ? { apiGroups: r.apiGroups } : {}),
          ...(r.resources.length ? { resources: r.resources } : {}),
          ...(r.resourceNames.length ? { resourceNames: r.resourceNames } : {}),
        })),
        nonResourceRules: rules.nonResourceRules.map((r) => ({ verbs: r.verbs, ...(r.nonResourceURLs.length ? { nonResourceURLs: r.nonResourceURLs } : {}) })),
        incomplete: rules.incomplete,
        ...(rules.evaluationError ? { evaluationError: rules.evaluationError } : {}),
      };
      return answer(selfSubjectRulesReviewType, o, status);
    }),
  ];
}
