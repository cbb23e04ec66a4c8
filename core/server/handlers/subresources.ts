/**
 * @module Built-in subresources: `scale` (autoscaling/v1 Scale over any kind
 * that declares replica paths), `pods/binding`, `pods/eviction` and
 * `namespaces/finalize`.
 */
import { ApiError, errors } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceType, ScaleSubresource } from "../../api/registry.ts";
import { labelSelectorFromObject } from "../../api/selectors.ts";
import { nowRfc3339 } from "../../api/time.ts";
import { decodeBody, mediaType, parseJson, readBody } from "../request.ts";
import { json } from "../respond.ts";
import { type AgentAccess, agentEndpoint, agentFetch, readPod } from "./agent-endpoint.ts";
import type { HandlerContext } from "./context.ts";
import { writeContext } from "./write.ts";

function getPath(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const seg of path.replace(/^\./, "").split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function setPath(o: Record<string, unknown>, path: string, value: unknown): void {
  const segs = path.replace(/^\./, "").split(".");
  let cur = o;
  for (const seg of segs.slice(0, -1)) {
    const next = cur[seg];
    if (next === null || typeof next !== "object") cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  cur[segs[segs.length - 1]!] = value;
}

function selectorString(sel: unknown): string {
  if (typeof sel === "string") return sel;
  if (sel === null || typeof sel !== "object") return "";
  const s = sel as { matchLabels?: unknown; matchExpressions?: unknown };
  // A metav1.LabelSelector, or (ReplicationController) a plain map.
  const obj = s.matchLabels !== undefined || s.matchExpressions !== undefined ? s : { matchLabels: sel };
  return labelSelectorFromObject(obj as never).toString();
}

/** The autoscaling/v1 Scale view of an object. */
export function scaleOf(type: ResourceType, o: KubeObject, sc: ScaleSubresource): KubeObject {
  const m = o.metadata;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: m.name!,
      ...(m.namespace ? { namespace: m.namespace } : {}),
      uid: m.uid!,
      resourceVersion: m.resourceVersion!,
      creationTimestamp: m.creationTimestamp!,
    },
    spec: { replicas: Number(getPath(o, sc.specReplicasPath) ?? 0) },
    status: {
      replicas: Number(getPath(o, sc.statusReplicasPath) ?? 0),
      ...(sc.labelSelectorPath ? { selector: selectorString(getPath(o, sc.labelSelectorPath)) } : {}),
    },
  };
}

function scaleConfig(ctx: HandlerContext): ScaleSubresource {
  const sc = ctx.type.subresources.scale;
  if (!sc) throw errors.notFoundPath();
  return sc;
}

export async function getScale(ctx: HandlerContext): Promise<Response> {
  const sc = scaleConfig(ctx);
  const stored = await ctx.deps.store.get(ctx.type, ctx.namespace, ctx.path.name!);
  return json(scaleOf(ctx.type, stored.object, sc));
}

/** PUT or PATCH of `/scale`: the change is computed on the Scale, then written to the object's replicas. */
export async function writeScale(ctx: HandlerContext, method: "PUT" | "PATCH"): Promise<Response> {
  const sc = scaleConfig(ctx);
  const wctx = writeContext(ctx, { subresource: "scale" });
  const bytes = await readBody(ctx.req);
  const ct = mediaType(ctx.req.headers.get("content-type"));
  const body = method === "PUT" ? decodeBody(bytes, ct, ctx.deps.protobuf) : parseJson(new TextDecoder().decode(bytes));
  if (method === "PATCH" && ct !== "application/merge-patch+json" && ct !== "application/json-patch+json" && ct !== "application/strategic-merge-patch+json") {
    throw errors.unsupportedMediaTypePatch(ct);
  }
  const { type, deps } = ctx;
  const name = ctx.path.name!;
  const stored = await deps.storage.mutate(
    type,
    ctx.namespace,
    name,
    (cur) => {
      const scale = scaleOf(type, cur, sc);
      let next: unknown;
      if (method === "PUT") next = body;
      else if (ct === "application/json-patch+json") next = deps.patch.json(scale, body);
      else if (ct === "application/merge-patch+json") next = deps.patch.merge(scale, body);
      else next = deps.patch.strategic(scale, body, undefined);
      const s = next as { metadata?: { resourceVersion?: string; name?: string }; spec?: { replicas?: unknown } };
      if (s === null || typeof s !== "object") throw errors.badRequest("Scale must be an object");
      const replicas = s.spec?.replicas;
      if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
        throw errors.invalid({
          kind: "Scale",
          group: "autoscaling",
          name,
          causes: [{ reason: "FieldValueInvalid", field: "spec.replicas", message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0` }],
        });
      }
      const rv = s.metadata?.resourceVersion;
      if (rv && rv !== cur.metadata.resourceVersion) throw errors.conflict({ resource: type.plural, group: type.group, name });
      const out = structuredClone(cur);
      setPath(out as Record<string, unknown>, sc.specReplicasPath, replicas);
      return out;
    },
    wctx,
    { checkVersion: false, scope: "main" },
  );
  return json(scaleOf(type, stored.object, sc));
}

/** POST pods/<name>/binding: assigns the pod to a node (once). */
export async function bindPod(ctx: HandlerContext): Promise<Response> {
  const body = decodeBody(await readBody(ctx.req), ctx.req.headers.get("content-type") ?? "", ctx.deps.protobuf) as {
    metadata?: { name?: string };
    target?: { kind?: string; name?: string };
  } | null;
  const name = ctx.path.name!;
  const target = body?.target?.name;
  if (!target) {
    throw errors.invalid({ kind: "Binding", group: "", name, causes: [{ reason: "FieldValueRequired", field: "target.name", message: "Required value" }] });
  }
  if (body?.metadata?.name && body.metadata.name !== name) {
    throw errors.badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
  }
  const wctx = writeContext(ctx, { subresource: "binding" });
  await ctx.deps.storage.mutate(
    ctx.type,
    ctx.namespace,
    name,
    (pod) => {
      const spec = (pod.spec ??= {}) as { nodeName?: string };
      if (pod.metadata.deletionTimestamp) throw errors.conflict({ resource: "pods", group: "", name }, "pod is being deleted, cannot be assigned to a host");
      if (spec.nodeName) {
        throw errors.conflict({ resource: "pods", group: "", name }, `pod ${name} is already assigned to node "${spec.nodeName}"`);
      }
      spec.nodeName = target;
      const status = (pod.status ??= {}) as { conditions?: { type: string; status: string; lastProbeTime?: null; lastTransitionTime?: string }[] };
      const conds = (status.conditions ??= []);
      const now = nowRfc3339();
      const existing = conds.find((c) => c.type === "PodScheduled");
      if (existing) {
        if (existing.status !== "True") existing.lastTransitionTime = now;
        existing.status = "True";
      } else conds.push({ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: now });
      return pod;
    },
    wctx,
    { checkVersion: false, scope: "all" },
  );
  return json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 }, 201);
}

/**
 * POST pods/<name>/eviction (policy/v1 Eviction): deletes the pod unless a
 * PodDisruptionBudget selecting it allows no disruption (429, as upstream).
 * An allowed eviction uses up one of the budget's allowed disruptions.
 */
export async function evictPod(ctx: HandlerContext): Promise<Response> {
  const body = decodeBody(await readBody(ctx.req), ctx.req.headers.get("content-type") ?? "", ctx.deps.protobuf) as {
    metadata?: { name?: string };
    deleteOptions?: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: string[] };
  } | null;
  const name = ctx.path.name!;
  if (body?.metadata?.name && body.metadata.name !== name) {
    throw errors.badRequest(`name in URL does not match name in Eviction object`);
  }
  const { store, registry, storage } = ctx.deps;
  const pod = (await store.get(ctx.type, ctx.namespace, name)).object;
  const pdbType = registry.get("policy", "v1", "poddisruptionbudgets");
  const dryRun = (body?.deleteOptions?.dryRun?.length ?? 0) > 0;
  if (pdbType && !pod.metadata.deletionTimestamp) {
    const { items } = await store.list(pdbType, { namespace: ctx.namespace });
    for (const item of items) {
      const pdb = item.object as KubeObject & { spec?: { selector?: unknown }; status?: { disruptionsAllowed?: number; currentHealthy?: number; desiredHealthy?: number } };
      const sel = pdb.spec?.selector;
      if (!sel || !labelSelectorFromObject(sel as never).matches(pod.metadata.labels)) continue;
      const allowed = pdb.status?.disruptionsAllowed ?? 0;
      if (allowed < 1) {
        throw new ApiError({
          reason: "TooManyRequests",
          message: "Cannot evict pod as it would violate the pod's disruption budget.",
          details: {
            causes: [
              {
                reason: "DisruptionBudget",
                message: `The disruption budget ${pdb.metadata.name} needs ${pdb.status?.desiredHealthy ?? 0} healthy pods and has ${pdb.status?.currentHealthy ?? 0} currently`,
              },
            ],
          },
        });
      }
      if (!dryRun) {
        await store.guaranteedUpdate(pdbType, ctx.namespace, pdb.metadata.name!, (o) => {
          const st = (o.status ??= {}) as { disruptionsAllowed?: number };
          st.disruptionsAllowed = Math.max(0, (st.disruptionsAllowed ?? 0) - 1);
          return o;
        });
      }
    }
  }
  const opts = body?.deleteOptions ?? {};
  await storage.delete(ctx.type, ctx.namespace, name, {
    ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
    ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
    dryRun,
  });
  return json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 }, 201);
}

/**
 * PUT namespaces/NAME/finalize (upstream's finalize REST): replaces
 * `spec.finalizers` with the request's and nothing else; a namespace being
 * deleted that is left with no finalizers at all is removed. The namespace
 * controller calls it once the namespace is empty.
 */
export async function finalizeNamespace(ctx: HandlerContext): Promise<Response> {
  const body = decodeBody(await readBody(ctx.req), ctx.req.headers.get("content-type") ?? "", ctx.deps.protobuf) as {
    metadata?: { name?: string; resourceVersion?: string };
    spec?: { finalizers?: unknown };
  } | null;
  const name = ctx.path.name!;
  if (body?.metadata?.name && body.metadata.name !== name) {
    throw errors.badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
  }
  const finalizers = body?.spec?.finalizers ?? [];
  if (!Array.isArray(finalizers) || finalizers.some((f) => typeof f !== "string")) {
    throw errors.invalid({ kind: "Namespace", group: "", name, causes: [{ reason: "FieldValueInvalid", field: "spec.finalizers", message: "Invalid value: must be a list of strings" }] });
  }
  const wctx = writeContext(ctx, { subresource: "finalize" });
  const rv = body?.metadata?.resourceVersion;
  const stored = await ctx.deps.storage.mutate(
    ctx.type,
    "",
    name,
    (ns) => {
      if (rv && rv !== ns.metadata.resourceVersion) throw errors.conflict({ resource: "namespaces", group: "", name });
      const spec = { ...((ns.spec as object | undefined) ?? {}), finalizers };
      return { ...ns, spec };
    },
    wctx,
    { checkVersion: false, scope: "all" },
  );
  const m = stored.object.metadata;
  if (!wctx.dryRun && m.deletionTimestamp && finalizers.length === 0 && (m.finalizers?.length ?? 0) === 0) {
    try {
      return json((await ctx.deps.store.delete(ctx.type, "", name)).object);
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === "NotFound")) throw e;
    }
  }
  return new Response(stored.raw, { status: 200, headers: { "content-type": "application/json" } });
}

const LOG_OPTIONS = ["follow", "previous", "sinceSeconds", "sinceTime", "timestamps", "tailLines", "limitBytes"];

/**
 * GET pods/NAME/log: proxied to the node agent that runs the pod
 * (`/containerLogs/…` on its endpoint, `status.daemonEndpoints`), streaming
 * the text through as it comes (`kubectl logs -f`). The agent's Status
 * errors pass through unchanged.
 */
export async function podLogs(ctx: HandlerContext, access: AgentAccess = {}): Promise<Response> {
  const name = ctx.path.name!;
  const pod = await readPod(ctx);
  const agent = await agentEndpoint(ctx, pod, access);
  const q = new URLSearchParams();
  for (const k of LOG_OPTIONS) {
    const v = ctx.query.get(k);
    if (v !== null) q.set(k, v);
  }
  const container = ctx.query.get("container") ?? "";
  const path = `/containerLogs/${encodeURIComponent(ctx.namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${q}`;
  let res: Response;
  try {
    res = await agentFetch(agent, path, { signal: ctx.req.signal });
  } catch (e) {
    throw new ApiError({ reason: "ServiceUnavailable", message: `cannot reach the agent of node ${agent.nodeName}: ${(e as Error).message}` });
  }
  return new Response(res.body, { status: res.status, headers: { "content-type": res.headers.get("content-type") ?? "text/plain" } });
}
