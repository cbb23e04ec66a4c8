/**
 * @module GET of one object and LIST, as JSON, Table or PartialObjectMetadata.
 * Lists splice the stored JSON of each item into the response unparsed.
 */
import { errors } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ListOptions, ListResult } from "../../store/types.ts";
import { parseResourceVersion, queryInt, querySelectors } from "../request.ts";
import { json, jsonText, negotiate } from "../respond.ts";
import { includeObjectParam, partialObjectMetadata, table } from "../table.ts";
import type { HandlerContext } from "./context.ts";

export async function getObject(ctx: HandlerContext): Promise<Response> {
  const { type, path } = ctx;
  const stored = await ctx.deps.store.get(type, ctx.namespace, path.name!);
  const rep = negotiate(ctx.req.headers.get("accept"));
  if (rep === "table") {
    return json(
      table(type, [stored.object], {
        include: includeObjectParam(ctx.query.get("includeObject")),
        resourceVersion: String(stored.revision),
      }),
    );
  }
  if (rep === "partial") return json(partialObjectMetadata(stored.object));
  return jsonText(stored.raw);
}

/** Runs a list with Kubernetes' resourceVersion / resourceVersionMatch rules. */
export async function runList(ctx: HandlerContext): Promise<ListResult> {
  const q = ctx.query;
  const sel = querySelectors(q, ctx.type);
  const limit = queryInt(q, "limit");
  const cont = q.get("continue") ?? "";
  const rv = parseResourceVersion(q.get("resourceVersion"));
  const match = q.get("resourceVersionMatch") ?? "";
  if (match !== "" && match !== "Exact" && match !== "NotOlderThan") {
    throw errors.badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
  }
  if (match !== "" && rv === undefined) {
    throw errors.badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided");
  }
  if (cont && rv !== undefined && rv !== 0) {
    throw errors.badRequest("specifying resource version is not allowed when using continue");
  }
  const opts: ListOptions = { ...sel };
  if (ctx.type.namespaced && ctx.path.namespace !== undefined) opts.namespace = ctx.namespace;
  if (limit) opts.limit = limit;
  if (cont) opts.continue = cont;
  if (rv !== undefined && rv !== 0 && !cont) {
    const current = await ctx.deps.store.currentRevision();
    // Exact, or the legacy meaning of a paged list at a resourceVersion.
    if (match === "Exact" || (match === "" && limit)) opts.revision = rv;
    else if (rv > current) throw errors.timeout(`Too large resource version: ${rv}, current: ${current}`);
  }
  return ctx.deps.store.list(ctx.type, opts);
}

export async function listObjects(ctx: HandlerContext): Promise<Response> {
  const { type } = ctx;
  const r = await runList(ctx);
  const rep = negotiate(ctx.req.headers.get("accept"));
  const meta = {
    resourceVersion: String(r.revision),
    ...(r.continue ? { continue: r.continue } : {}),
    ...(r.remainingItemCount !== undefined ? { remainingItemCount: r.remainingItemCount } : {}),
  };
  if (rep === "table") {
    return json(
      table(
        type,
        r.items.map((i) => i.object),
        { include: includeObjectParam(ctx.query.get("includeObject")), ...meta },
      ),
    );
  }
  if (rep === "partial") {
    return json({
      kind: "PartialObjectMetadataList",
      apiVersion: "meta.k8s.io/v1",
      metadata: meta,
      items: r.items.map((i) => partialObjectMetadata(i.object as KubeObject)),
    });
  }
  const apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
  const head = `{"kind":${JSON.stringify(type.listKind)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":${JSON.stringify(meta)},"items":[`;
  const parts: string[] = [head];
  for (let i = 0; i < r.items.length; i++) {
    if (i > 0) parts.push(",");
    parts.push(r.items[i]!.raw);
  }
  parts.push("]}");
  return jsonText(parts.join(""));
}
