/**
 * @module The API server as one Hono app: version, health, metrics,
 * discovery, OpenAPI, and generic REST for every registered type. Serving
 * it on a runtime is `serve.ts`'s job.
 */
import { Hono } from "hono";
import { type ApiError, errors } from "../api/errors.ts";
import { logger } from "../log.ts";
import { Discovery, type SubresourceInfo } from "./discovery.ts";
import type { HandlerContext, ServerDeps } from "./handlers/context.ts";
import { deleteCollection, deleteObject } from "./handlers/delete.ts";
import { getObject, listObjects } from "./handlers/read.ts";
import type { AgentAccess } from "./handlers/agent-endpoint.ts";
import { podAttach, podExec, podPortForward } from "./handlers/pod-streams.ts";
import { bindPod, evictPod, finalizeNamespace, getScale, podLogs, writeScale } from "./handlers/subresources.ts";
import { watchObjects } from "./handlers/watch.ts";
import { createObject, patchObject, updateObject } from "./handlers/write.ts";
import { ApiMetrics } from "./metrics.ts";
import { internalErrorResponse } from "./hygiene.ts";
import { OpenApi } from "./openapi.ts";
import { parseResourcePath, queryBool, queryOf, resolveType, type ResourcePath } from "./request.ts";
import { json, jsonText, statusResponse } from "./respond.ts";

export const VERSION_INFO = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.4-skiff.0.1.0",
  gitCommit: "",
  gitTreeState: "clean",
  buildDate: "2026-11-25T00:00:00Z",
  goVersion: "n/a",
  compiler: "skiff",
  platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`,
};

/** A handler for a subresource beyond the built-in ones (pods/log, pods/exec … from the node agent). */
export interface SubresourceHandler extends SubresourceInfo {
  handle(ctx: HandlerContext): Promise<Response> | Response;
}

export interface ApiServerOptions {
  /** Extra subresources (plugins). */
  subresources?: SubresourceHandler[];
  /**
   * Named readiness checks for /readyz; a failing one (false, or a string
   * saying why) makes it 500. The reason is shown with `?verbose`.
   */
  readyChecks?: Record<string, () => boolean | string>;
  /** How to reach node agents for pods/log, pods/exec and pods/portforward (their bearer token). */
  agents?: AgentAccess;
  /**
   * The per-client rate check (`hygiene.ts`), run for each resource request
   * once its user is known: an ApiError (429) refuses it.
   */
  admit?: (req: Request) => ApiError | undefined;
  /** Kinds answered on create and never stored (authorization reviews): POST to the collection only. */
  createOnly?: CreateOnlyResource[];
  /**
   * Authentication and authorization (`auth/authentication.ts`), run before
   * routing: a Response stops the request (401, 403) or answers it (the
   * gate's own endpoints, `/cacerts` …); undefined lets it through.
   */
  gate?: { handle(req: Request, env?: unknown): Promise<Response | undefined> };
}

/** A create-only, unstored kind (SelfSubjectAccessReview …), routed before the type registry. */
export interface CreateOnlyResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly namespaced: boolean;
  /** Answers a POST to the collection; `namespace` is "" for cluster-scoped kinds. */
  create(req: Request, namespace: string): Promise<Response>;
}

const BUILTIN_SUBRESOURCES: SubresourceInfo[] = [
  { name: "status", verbs: ["get", "patch", "update"], appliesTo: (t) => t.subresources.status === true },
  {
    name: "scale",
    kind: { group: "autoscaling", version: "v1", kind: "Scale" },
    verbs: ["get", "patch", "update"],
    appliesTo: (t) => t.subresources.scale !== undefined,
  },
  { name: "binding", kind: { group: "", version: "v1", kind: "Binding" }, verbs: ["create"], appliesTo: (t) => t.key === "pods" },
  { name: "eviction", kind: { group: "policy", version: "v1", kind: "Eviction" }, verbs: ["create"], appliesTo: (t) => t.key === "pods" },
  { name: "finalize", verbs: ["update"], appliesTo: (t) => t.key === "namespaces" },
  { name: "log", verbs: ["get"], appliesTo: (t) => t.key === "pods" },
  { name: "exec", kind: { group: "", version: "v1", kind: "PodExecOptions" }, verbs: ["create", "get"], appliesTo: (t) => t.key === "pods" },
  { name: "attach", kind: { group: "", version: "v1", kind: "PodAttachOptions" }, verbs: ["create", "get"], appliesTo: (t) => t.key === "pods" },
  {
    name: "portforward",
    kind: { group: "", version: "v1", kind: "PodPortForwardOptions" },
    verbs: ["create", "get"],
    appliesTo: (t) => t.key === "pods",
  },
];

export interface ApiServer {
  app: Hono;
  metrics: ApiMetrics;
  discovery: Discovery;
}

export function createApiServer(deps: ServerDeps, opts: ApiServerOptions = {}): ApiServer {
  const app = new Hono();
  const metrics = new ApiMetrics();
  const extra = opts.subresources ?? [];
  const discovery = new Discovery(deps.registry, () => [...BUILTIN_SUBRESOURCES, ...extra]);
  const openapi = new OpenApi(deps.registry);

  const log = logger("api");
  // Anything thrown that is not an ApiError is a bug: a generic 500, the details in the server log only.
  app.onError((e) => internalErrorResponse(e, log));
  app.notFound(() => statusResponse(errors.notFoundPath()));
  const gate = opts.gate;
  if (gate) app.use("*", async (c, next) => (await gate.handle(c.req.raw, c.env)) ?? (await next()));

  app.get("/version", () => json(VERSION_INFO));
  for (const p of ["/healthz", "/livez"]) app.get(p, () => new Response("ok", { headers: { "content-type": "text/plain" } }));
  app.get("/readyz", (c) => {
    const checks = Object.entries(opts.readyChecks ?? {}).map(([name, f]) => [name, safe(f)] as const);
    const ok = checks.every(([, v]) => v === true);
    const verbose = c.req.query("verbose") !== undefined;
    const line = (n: string, v: boolean | string) => (v === true ? `[+]${n} ok` : `[-]${n} failed${typeof v === "string" ? `: ${v}` : ""}`);
    const body = verbose
      ? [...checks.map(([n, v]) => line(n, v)), ok ? "readyz check passed" : "readyz check failed"].join("\n") + "\n"
      : ok ? "ok" : "readyz check failed";
    return new Response(body, { status: ok ? 200 : 500, headers: { "content-type": "text/plain" } });
  });
  app.get("/metrics", async () => {
    const m = await metrics.text();
    return new Response(m.body, { headers: { "content-type": m.contentType } });
  });

  const aggregatedVersion = (accept: string | undefined): "v2" | "v2beta1" | undefined => {
    if (!accept || !accept.includes("as=APIGroupDiscoveryList")) return undefined;
    for (const part of accept.split(",")) {
      if (!part.includes("as=APIGroupDiscoveryList") || !part.includes("g=apidiscovery.k8s.io")) continue;
      if (/v=v2(;|$|\s)/.test(part + ";")) return "v2";
      if (part.includes("v=v2beta1")) return "v2beta1";
    }
    return undefined;
  };
  const discoveryHandler = (which: "api" | "apis") => (c: { req: { header(n: string): string | undefined } }) => {
    const v = aggregatedVersion(c.req.header("accept"));
    if (v) {
      return jsonText(discovery.aggregated(which, v), 200, {
        "content-type": `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`,
      });
    }
    return jsonText(which === "api" ? discovery.legacyApi() : discovery.legacyApis());
  };
  app.get("/api", discoveryHandler("api"));
  app.get("/apis", discoveryHandler("apis"));
  app.get("/openapi/v3", () => jsonText(openapi.index()));
  app.get("/openapi/v3/*", (c) => {
    const doc = openapi.document(c.req.path.slice("/openapi/v3/".length));
    return doc ? jsonText(doc) : statusResponse(errors.notFoundPath());
  });

  const agents = opts.agents ?? {};
  const resource = (group: string, version: string, segments: string[], req: Request, env?: unknown): Promise<Response> | Response => {
    const rest = segments.filter((x) => x !== "");
    if (rest.length === 0) {
      const doc = discovery.resourceList(group, version);
      if (!doc) throw errors.notFoundPath();
      return jsonText(doc);
    }
    const path = parseResourcePath(group, version, rest);
    if (!path) throw errors.notFoundPath();
    const answered = opts.createOnly?.find((r) => r.group === group && r.version === version && r.resource === path.resource);
    if (answered) return createOnly(answered, path, req);
    const type = resolveType(deps.registry, path);
    const ctx: HandlerContext = { deps, type, path, req, query: queryOf(req.url), namespace: path.namespace ?? "", env };
    const label = { verb: "", group, version, resource: path.resource, subresource: path.subresource ?? "" };
    const started = performance.now();
    const finish = (r: Response): Response => {
      metrics.observe(label, r.status, (performance.now() - started) / 1000);
      return r;
    };
    const fail = (e: unknown): Response => finish(internalErrorResponse(e, log));
    try {
      const refused = opts.admit?.(req);
      if (refused) return fail(refused);
      const out = dispatch(ctx, req.method, { extra, agents }, label);
      return out instanceof Promise ? out.then(finish, fail) : finish(out);
    } catch (e) {
      return fail(e);
    }
  };

  app.all("/api/v1/*", (c) => resource("", "v1", c.req.path.slice("/api/v1/".length).split("/"), c.req.raw, c.env));
  app.get("/api/v1", () => resource("", "v1", [], new Request("http://x/")));
  app.get("/apis/:group", (c) => {
    const doc = discovery.legacyGroup(c.req.param("group"));
    return doc ? jsonText(doc) : statusResponse(errors.notFoundPath());
  });
  app.all("/apis/:group/:version/*", (c) =>
    resource(c.req.param("group"), c.req.param("version"), c.req.path.split("/").slice(4), c.req.raw, c.env),
  );
  app.get("/apis/:group/:version", (c) => resource(c.req.param("group"), c.req.param("version"), [], c.req.raw));

  return { app, metrics, discovery };
}

/** A create-only kind: a POST to its collection (in a namespace when namespaced); any other method is 405. */
function createOnly(r: CreateOnlyResource, path: ResourcePath, req: Request): Promise<Response> {
  if (path.name !== undefined || path.subresource !== undefined || (path.namespace !== undefined) !== r.namespaced) throw errors.notFoundPath();
  if (req.method !== "POST") throw errors.methodNotAllowed("the server does not allow this method on the requested resource");
  return r.create(req, path.namespace ?? "");
}

function safe(f: () => boolean | string): boolean | string {
  try {
    return f();
  } catch (e) {
    return e instanceof Error ? e.message : false;
  }
}

/** Routes one resource request by method and path shape; sets `label.verb` for metrics. */
function dispatch(
  ctx: HandlerContext,
  method: string,
  { extra, agents }: { extra: SubresourceHandler[]; agents: AgentAccess },
  label: { verb: string },
): Promise<Response> | Response {
  const { path, type } = ctx;
  if (path.subresource) {
    const sub = path.subresource;
    const handler = extra.find((h) => h.name === sub && h.appliesTo(type));
    if (handler) {
      label.verb = method.toLowerCase();
      return handler.handle(ctx);
    }
    if (sub === "status" && type.subresources.status) {
      label.verb = method === "GET" ? "get" : method === "PUT" ? "update" : "patch";
      if (method === "GET") return getObject(ctx);
      if (method === "PUT") return updateObject(ctx, "status");
      if (method === "PATCH") return patchObject(ctx, "status");
    } else if (sub === "scale" && type.subresources.scale) {
      label.verb = method === "GET" ? "get" : method === "PUT" ? "update" : "patch";
      if (method === "GET") return getScale(ctx);
      if (method === "PUT" || method === "PATCH") return writeScale(ctx, method);
    } else if (sub === "binding" && type.key === "pods" && method === "POST") {
      label.verb = "create";
      return bindPod(ctx);
    } else if (sub === "eviction" && type.key === "pods" && method === "POST") {
      label.verb = "create";
      return evictPod(ctx);
    } else if (sub === "log" && type.key === "pods") {
      label.verb = "get";
      if (method === "GET") return podLogs(ctx, agents);
    } else if ((sub === "exec" || sub === "attach" || sub === "portforward") && type.key === "pods") {
      label.verb = method === "POST" ? "create" : "get";
      if (method === "GET" || method === "POST") return sub === "exec" ? podExec(ctx, agents) : sub === "attach" ? podAttach(ctx) : podPortForward(ctx, agents);
    } else if (sub === "finalize" && type.key === "namespaces") {
      label.verb = "update";
      if (method === "PUT") return finalizeNamespace(ctx);
    } else {
      throw errors.notFoundPath();
    }
    throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
  }
  if (type.namespaced && path.namespace === undefined && path.name !== undefined) throw errors.notFoundPath();
  if (path.name === undefined) {
    switch (method) {
      case "GET":
        if (queryBool(ctx.query, "watch")) {
          label.verb = "watch";
          return watchObjects(ctx);
        }
        label.verb = "list";
        return listObjects(ctx);
      case "POST":
        label.verb = "create";
        if (type.namespaced && path.namespace === undefined) throw errors.notFoundPath();
        return createObject(ctx);
      case "DELETE":
        label.verb = "deletecollection";
        return deleteCollection(ctx);
    }
  } else {
    switch (method) {
      case "GET":
        label.verb = "get";
        return getObject(ctx);
      case "PUT":
        label.verb = "update";
        return updateObject(ctx);
      case "PATCH":
        label.verb = "patch";
        return patchObject(ctx);
      case "DELETE":
        label.verb = "delete";
        return deleteObject(ctx);
    }
  }
  throw errors.methodNotAllowed("the server does not allow this method on the requested resource");
}
