/**
 * @module POST (create), PUT (update) and PATCH (json, merge, strategic,
 * server-side apply) for objects and their `status` subresource.
 */
import { errors } from "../../api/errors.ts";
import type { KubeObject, ManagedFieldsEntry } from "../../api/meta.ts";
import type { ResourceType } from "../../api/registry.ts";
import { nowRfc3339 } from "../../api/time.ts";
import type { StoredObject } from "../../store/types.ts";
import { mediaType, parseJson, parseYamlBody, queryBool, readBody, readDecoded } from "../request.ts";
import { jsonText, warningHeader } from "../respond.ts";
import type { FieldValidation, WriteContext } from "../rest-storage.ts";
import type { HandlerContext } from "./context.ts";
import { requestUser } from "../auth/types.ts";

/** The request's user as admission sees it (upstream's `user.Info` on `admission.Attributes`); none without authentication. */
export function admissionUser(req: Request): WriteContext["userInfo"] {
  const who = requestUser(req)?.user;
  return who ? { username: who.name, groups: who.groups, ...(who.uid ? { uid: who.uid } : {}), ...(who.extra ? { extra: who.extra } : {}) } : undefined;
}

function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** fieldManager, fieldValidation and dryRun from the query. */
export function writeContext(ctx: HandlerContext, opts: { subresource?: string; apply?: boolean } = {}): WriteContext {
  const q = ctx.query;
  const fv = q.get("fieldValidation") ?? "Warn";
  if (fv !== "Strict" && fv !== "Warn" && fv !== "Ignore") {
    throw errors.badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(fv)}: supported values: "Ignore", "Strict", "Warn"`);
  }
  const dry = q.getAll("dryRun");
  for (const d of dry) if (d !== "All") throw errors.badRequest(`dryRun: Unsupported value: ${JSON.stringify(d)}: supported values: "All"`);
  let manager = q.get("fieldManager") ?? "";
  if (manager.length > 128) throw errors.badRequest("fieldManager: Too long: may not be more than 128 bytes");
  if (!manager) {
    if (opts.apply) {
      throw errors.invalid({
        kind: "PatchOptions",
        group: "meta.k8s.io",
        name: "",
        causes: [{ reason: "FieldValueRequired", field: "fieldManager", message: "Required value: is required for apply patch" }],
      });
    }
    manager = (ctx.req.headers.get("user-agent") ?? "unknown").split("/")[0]!.slice(0, 128) || "unknown";
  }
  const userInfo = admissionUser(ctx.req);
  return {
    ...(userInfo ? { userInfo } : {}),
    fieldManager: manager,
    fieldValidation: fv as FieldValidation,
    dryRun: dry.length > 0,
    warnings: [],
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  };
}

/** Reads the body as an object of this endpoint's kind, with the namespace reconciled against the URL. */
export async function readObject(ctx: HandlerContext): Promise<KubeObject> {
  return checkObject(ctx, await readDecoded(ctx.req, ctx.deps.protobuf, ctx.type));
}

export function checkObject(ctx: HandlerContext, value: unknown): KubeObject {
  const { type } = ctx;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw errors.badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: the body must be a JSON object`);
  }
  const obj = value as KubeObject;
  const want = apiVersionOf(type);
  if (obj.apiVersion !== undefined && obj.apiVersion !== want) {
    throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${want})`);
  }
  if (obj.kind !== undefined && obj.kind !== type.kind) {
    throw errors.badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${type.kind})`);
  }
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  if (typeof obj.metadata !== "object" || Array.isArray(obj.metadata)) {
    throw errors.badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: metadata must be an object`);
  }
  if (type.namespaced) {
    const ns = obj.metadata.namespace;
    if (ns === undefined || ns === "") obj.metadata.namespace = ctx.namespace;
    else if (ns !== ctx.namespace) {
      throw errors.badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
  } else {
    delete obj.metadata.namespace;
  }
  return obj;
}

function respond(stored: StoredObject, status: number, wctx: WriteContext): Response {
  return jsonText(stored.raw, status, warningHeader(wctx.warnings));
}

export async function createObject(ctx: HandlerContext): Promise<Response> {
  const wctx = writeContext(ctx);
  const obj = await readObject(ctx);
  const stored = await ctx.deps.storage.create(ctx.type, obj, wctx);
  return respond(stored, 201, wctx);
}

export async function updateObject(ctx: HandlerContext, subresource?: string): Promise<Response> {
  const wctx = writeContext(ctx, subresource ? { subresource } : {});
  const obj = await readObject(ctx);
  const stored = await ctx.deps.storage.update(ctx.type, ctx.namespace, ctx.path.name!, obj, wctx);
  return respond(stored, 200, wctx);
}

const PATCH_TYPES = new Set([
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
]);

export async function patchObject(ctx: HandlerContext, subresource?: string): Promise<Response> {
  const ct = mediaType(ctx.req.headers.get("content-type"));
  if (!PATCH_TYPES.has(ct)) {
    throw errors.unsupportedMediaTypePatch(ct);
  }
  const apply = ct === "application/apply-patch+yaml";
  if (!apply && ctx.query.has("force")) {
    throw errors.invalid({
      kind: "PatchOptions",
      group: "meta.k8s.io",
      name: "",
      causes: [{ reason: "FieldValueForbidden", field: "force", message: "Forbidden: may not be specified for non-apply patch" }],
    });
  }
  const wctx = writeContext(ctx, { ...(subresource ? { subresource } : {}), apply });
  const text = new TextDecoder().decode(await readBody(ctx.req));
  const patch = apply ? parseYamlBody(text) : parseJson(text);
  const { type, deps } = ctx;
  const name = ctx.path.name!;
  if (apply) return applyPatch(ctx, wctx, patch);

  const engine = deps.patch;
  const stored = await deps.storage.mutate(
    type,
    ctx.namespace,
    name,
    (cur) => {
      let out: unknown;
      if (ct === "application/json-patch+json") out = engine.json(cur, patch);
      else if (ct === "application/merge-patch+json") out = engine.merge(cur, patch);
      else out = engine.strategic(cur, patch, type.schema);
      const obj = checkPatched(ctx, out, name);
      return obj;
    },
    wctx,
    { checkVersion: true },
  );
  return respond(stored, 200, wctx);
}

/** A patch result must still be this object: same kind, name and namespace. */
function checkPatched(ctx: HandlerContext, out: unknown, name: string): KubeObject {
  const obj = checkObject(ctx, out);
  if (obj.metadata.name !== name) {
    throw errors.badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`);
  }
  return obj;
}

/** Server-side apply: merge the applied configuration, track ownership, create if missing (201). */
async function applyPatch(ctx: HandlerContext, wctx: WriteContext, patch: unknown): Promise<Response> {
  const { type, deps } = ctx;
  const name = ctx.path.name!;
  const applied = checkPatched(ctx, patch, name);
  if (applied.apiVersion === undefined || applied.kind === undefined) {
    throw errors.badRequest("apiVersion and kind must be set in an apply patch");
  }
  const force = queryBool(ctx.query, "force");
  const now = nowRfc3339();
  const args = {
    schema: type.schema,
    manager: wctx.fieldManager,
    force,
    apiVersion: apiVersionOf(type),
    now,
    // Status belongs to its subresource: an apply to the main resource never owns it.
    ...(type.subresources.status ? { resetFields: [["status"]] } : {}),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      let managed: ManagedFieldsEntry[] = [];
      const stored = await deps.storage.mutate(
        type,
        ctx.namespace,
        name,
        (cur) => {
          const r = deps.patch.apply({ ...args, live: cur, applied });
          managed = r.managedFields;
          return checkPatched(ctx, r.object, name);
        },
        wctx,
        { checkVersion: true, managedFields: () => managed },
      );
      return respond(stored, 200, wctx);
    } catch (e) {
      if (!(e instanceof Error && "reason" in e && (e as { reason: string }).reason === "NotFound") || attempt > 0) throw e;
    }
    try {
      const r = deps.patch.apply({ ...args, live: undefined, applied });
      const obj = checkPatched(ctx, r.object, name);
      const stored = await deps.storage.create(type, obj, wctx, { managedFields: r.managedFields });
      return respond(stored, 201, wctx);
    } catch (e) {
      // Created concurrently: apply to what is there now.
      if (!(e instanceof Error && "reason" in e && (e as { reason: string }).reason === "AlreadyExists")) throw e;
    }
  }
}
