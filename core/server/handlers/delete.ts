/**
 * @module DELETE of one object and of a collection, with DeleteOptions from
 * the body or the query (gracePeriodSeconds, propagationPolicy,
 * orphanDependents, preconditions, dryRun).
 */
import { errors } from "../../api/errors.ts";
import type { ResourceType } from "../../api/registry.ts";
import type { StoredObject } from "../../store/types.ts";
import { decodeBody, queryBool, queryInt, readBody } from "../request.ts";
import { json, jsonText } from "../respond.ts";
import type { DeleteRequest } from "../rest-storage.ts";
import type { HandlerContext } from "./context.ts";
import { runList } from "./read.ts";
import { admissionUser } from "./write.ts";

interface DeleteOptionsBody {
  gracePeriodSeconds?: unknown;
  propagationPolicy?: unknown;
  orphanDependents?: unknown;
  preconditions?: { uid?: unknown; resourceVersion?: unknown } | null;
  dryRun?: unknown;
}

/** Kinds whose DELETE answers with the deleted object rather than a Status (as upstream). */
const RETURNS_OBJECT = new Set(["pods", "namespaces"]);

async function deleteRequest(ctx: HandlerContext): Promise<DeleteRequest> {
  const q = ctx.query;
  const bytes = await readBody(ctx.req);
  let body: DeleteOptionsBody = {};
  if (bytes.byteLength > 0) {
    const v = decodeBody(bytes, ctx.req.headers.get("content-type") ?? "application/json", ctx.deps.protobuf);
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw errors.badRequest("DeleteOptions must be a JSON object");
    body = v as DeleteOptionsBody;
  }
  const grace = body.gracePeriodSeconds ?? queryInt(q, "gracePeriodSeconds");
  if (grace !== undefined && grace !== null && (typeof grace !== "number" || !Number.isInteger(grace))) {
    throw errors.badRequest("gracePeriodSeconds must be an integer");
  }
  let policy = body.propagationPolicy ?? q.get("propagationPolicy") ?? undefined;
  const orphan = body.orphanDependents ?? (q.has("orphanDependents") ? queryBool(q, "orphanDependents") : undefined);
  if (policy !== undefined && policy !== null && orphan !== undefined) {
    throw errors.invalid({
      kind: "DeleteOptions",
      group: "meta.k8s.io",
      name: "",
      causes: [{ reason: "FieldValueInvalid", field: "propagationPolicy", message: "Invalid value: \"\": orphanDependents and deletionPropagation cannot be both set" }],
    });
  }
  if (orphan === true) policy = "Orphan";
  if (policy !== undefined && policy !== null && policy !== "Foreground" && policy !== "Background" && policy !== "Orphan") {
    throw errors.invalid({
      kind: "DeleteOptions",
      group: "meta.k8s.io",
      name: "",
      causes: [{ reason: "FieldValueNotSupported", field: "propagationPolicy", message: `Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"` }],
    });
  }
  const dry = Array.isArray(body.dryRun) ? body.dryRun : q.getAll("dryRun");
  const pre = body.preconditions ?? undefined;
  const userInfo = admissionUser(ctx.req);
  return {
    ...(userInfo ? { userInfo } : {}),
    ...(typeof grace === "number" ? { gracePeriodSeconds: grace } : {}),
    ...(typeof policy === "string" ? { propagationPolicy: policy as DeleteRequest["propagationPolicy"] } : {}),
    ...(pre
      ? {
          preconditions: {
            ...(typeof pre.uid === "string" ? { uid: pre.uid } : {}),
            ...(typeof pre.resourceVersion === "string" ? { resourceVersion: pre.resourceVersion } : {}),
          },
        }
      : {}),
    dryRun: dry.length > 0,
  };
}

function deletedStatus(type: ResourceType, o: StoredObject): object {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    details: { name: o.object.metadata.name, group: type.group, kind: type.plural, uid: o.object.metadata.uid },
  };
}

export async function deleteObject(ctx: HandlerContext): Promise<Response> {
  const req = await deleteRequest(ctx);
  const { object, gone } = await ctx.deps.storage.delete(ctx.type, ctx.namespace, ctx.path.name!, req);
  if (!gone || RETURNS_OBJECT.has(ctx.type.key)) return jsonText(object.raw, 200);
  return json(deletedStatus(ctx.type, object), 200);
}

export async function deleteCollection(ctx: HandlerContext): Promise<Response> {
  const req = await deleteRequest(ctx);
  const list = await runList(ctx);
  const deleted: string[] = [];
  for (const item of list.items) {
    const m = item.object.metadata;
    try {
      const r = await ctx.deps.storage.delete(ctx.type, m.namespace ?? "", m.name!, req);
      deleted.push(r.object.raw);
    } catch (e) {
      if (!(e instanceof Error && "reason" in e && (e as { reason: string }).reason === "NotFound")) throw e;
    }
  }
  const t = ctx.type;
  const apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
  return jsonText(
    `{"kind":${JSON.stringify(t.listKind)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":{"resourceVersion":"${list.revision}"},"items":[${deleted.join(",")}]}`,
  );
}
