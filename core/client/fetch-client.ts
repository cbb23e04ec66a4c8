/**
 * @module `Client` over a fetch-shaped function. One implementation, two
 * transports: `inProcessClient` hands each `Request` straight to the API
 * server's router (no socket, no HTTP parsing: the semantics are the HTTP
 * API's exactly), `httpClient` sends it over the network with `fetch`.
 */
import { ApiError, errors } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import { attachObjectSink, type ChannelEvent } from "../api/object-channel.ts";
import { isNamespaced, queryString, resourcePath } from "./paths.ts";
import { errorFromResponse, unavailable } from "./status.ts";
import type {
  ApiResourceInfo,
  Client,
  DeleteOptions,
  ListOptions,
  ObjectList,
  PatchOptions,
  PatchType,
  ResourceRef,
  WatchOptions,
  WatchStream,
  WriteOptions,
} from "./types.ts";
import { ResponseWatchStream } from "./watch-stream.ts";
import { type AuthenticationResult, setRequestUser } from "../server/auth/types.ts";

/** What both transports reduce to: a Request in, a Response out. */
export type FetchFn = (req: Request) => Response | Promise<Response>;

export interface ClientOptions {
  /** `fieldManager` sent with every write that does not name one. Default `skiff`. */
  fieldManager?: string;
  /** The User-Agent header. Default `skiff-client/0.1.0`. */
  userAgent?: string;
}

export interface FetchClientOptions extends ClientOptions {
  /** Base URL the REST paths are appended to (`http://127.0.0.1:6443`). */
  baseUrl: string;
  fetch: FetchFn;
  /** Extra headers on every request (Authorization). */
  headers?: Record<string, string>;
  /**
   * Watch events as the server's objects rather than JSON lines: only for a
   * `fetch` that hands the Request object itself to the API server in this
   * process (core/api/object-channel.ts). Such objects are shared and read-only.
   */
  objects?: boolean;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

const JSON_TYPE = "application/json";
const ENCODER = new TextEncoder();

type Query = Record<string, string | number | boolean | undefined>;

interface Call {
  method: string;
  path: string;
  query?: Query;
  /** A JSON-encodable value, or text sent as is. */
  body?: unknown;
  contentType?: string;
}

/**
 * The `Client` implementation shared by both transports. Failures are
 * `ApiError`s: the server's Status for non-2xx answers, ServiceUnavailable
 * (503, with the original error as `cause`) when no answer came at all.
 */
export class FetchClient implements Client {
  readonly #base: string;
  readonly #fetch: FetchFn;
  readonly #headers: Record<string, string>;
  readonly #manager: string;
  readonly #objects: boolean;

  constructor(opts: FetchClientOptions) {
    this.#objects = opts.objects ?? false;
    this.#base = opts.baseUrl.replace(/\/+$/, "");
    this.#fetch = opts.fetch;
    this.#manager = opts.fieldManager ?? "skiff";
    this.#headers = { "user-agent": opts.userAgent ?? "skiff-client/0.1.0", accept: JSON_TYPE, ...opts.headers };
  }

  async get<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, opts: { namespace?: string } = {}): Promise<T> {
    return this.#json<T>({ method: "GET", path: resourcePath(ref, { namespace: opts.namespace, name }) });
  }

  async list<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.#json<ObjectList<T>>({
      method: "GET",
      path: resourcePath(ref, { namespace: opts.namespace }),
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.limit,
        continue: opts.continue,
        resourceVersion: opts.resourceVersion,
        resourceVersionMatch: opts.resourceVersionMatch,
      },
    });
  }

  watch<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: WatchOptions = {}): WatchStream<T> {
    const query: Query = {
      watch: 1,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowWatchBookmarks,
      timeoutSeconds: opts.timeoutSeconds,
    };
    if (opts.sendInitialEvents !== undefined) {
      // The API requires NotOlderThan whenever sendInitialEvents is given.
      query.sendInitialEvents = String(opts.sendInitialEvents);
      query.resourceVersionMatch = "NotOlderThan";
    }
    const url = this.#url(resourcePath(ref, { namespace: opts.namespace }), query);
    const queue: ChannelEvent[] | undefined = this.#objects ? [] : undefined;
    return new ResponseWatchStream<T>(
      (signal) => {
        const req = new Request(url, { method: "GET", headers: this.#headers, signal });
        if (queue) {
          attachObjectSink(req, {
            push: (events) => {
              for (const e of events) queue.push(e);
            },
            stripManagedFields: opts.stripManagedFields ?? false,
          });
        }
        return this.#send(req);
      },
      this.#base,
      queue,
      opts.stripManagedFields ?? false,
    );
  }

  async create<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts: WriteOptions & { namespace?: string } = {}): Promise<T> {
    const namespace = obj.metadata?.namespace || opts.namespace;
    if (isNamespaced(ref) && !namespace) throw errors.badRequest(`a namespace is required to create ${ref.resource}`);
    return this.#json<T>({
      method: "POST",
      path: resourcePath(ref, { namespace }),
      query: this.#writeQuery(opts),
      body: obj,
    });
  }

  async update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.#put(ref, obj, undefined, opts);
  }

  async updateStatus<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.#put(ref, obj, "status", opts);
  }

  async patch<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, type: PatchType, patch: unknown, opts: PatchOptions = {}): Promise<T> {
    return this.#json<T>({
      method: "PATCH",
      path: resourcePath(ref, { namespace: opts.namespace, name, subresource: opts.subresource }),
      query: { ...this.#writeQuery(opts), force: type === "apply" && opts.force === true ? "true" : undefined },
      // An apply body is YAML; JSON text is valid YAML.
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
    });
  }

  async delete(ref: ResourceRef, name: string, opts: DeleteOptions = {}): Promise<KubeObject> {
    return this.#json<KubeObject>({
      method: "DELETE",
      path: resourcePath(ref, { namespace: opts.namespace, name }),
      body: deleteOptionsBody(opts),
    });
  }

  async discover(): Promise<ApiResourceInfo[]> {
    interface ResourceList {
      resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
    }
    const lists: { group: string; version: string; path: string }[] = [];
    const core = await this.#json<{ versions?: string[] }>({ method: "GET", path: "/api" });
    for (const v of core.versions ?? []) lists.push({ group: "", version: v, path: `/api/${v}` });
    const groups = await this.#json<{ groups?: { name: string; versions?: { version: string }[]; preferredVersion?: { version: string } }[] }>({
      method: "GET",
      path: "/apis",
    });
    for (const g of groups.groups ?? []) {
      // The preferred version first, so "first seen" means preferred to callers.
      const preferred = g.preferredVersion?.version;
      const versions = (g.versions ?? []).map((v) => v.version).sort((a, b) => Number(b === preferred) - Number(a === preferred));
      for (const v of versions) lists.push({ group: g.name, version: v, path: `/apis/${g.name}/${v}` });
    }
    const out: ApiResourceInfo[] = [];
    const results = await Promise.all(lists.map((l) => this.#json<ResourceList>({ method: "GET", path: l.path })));
    results.forEach((list, i) => {
      const { group, version } = lists[i]!;
      for (const r of list.resources ?? []) {
        if (r.name.includes("/")) continue;
        out.push({ group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs ?? [] });
      }
    });
    return out;
  }

  async deleteCollection(ref: ResourceRef, opts: ListOptions & Omit<DeleteOptions, "preconditions"> = {}): Promise<void> {
    await this.#json<unknown>({
      method: "DELETE",
      path: resourcePath(ref, { namespace: opts.namespace }),
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.limit,
        continue: opts.continue,
        resourceVersion: opts.resourceVersion,
        resourceVersionMatch: opts.resourceVersionMatch,
      },
      body: deleteOptionsBody(opts),
    });
  }

  async createSubresource<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    name: string,
    subresource: string,
    body: KubeObject,
    opts: WriteOptions & { namespace?: string } = {},
  ): Promise<T> {
    return this.#json<T>({
      method: "POST",
      path: resourcePath(ref, { namespace: opts.namespace, name, subresource }),
      query: this.#writeQuery(opts),
      body,
    });
  }

  async getSubresource<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, subresource: string, opts: { namespace?: string } = {}): Promise<T> {
    return this.#json<T>({ method: "GET", path: resourcePath(ref, { namespace: opts.namespace, name, subresource }) });
  }

  async updateSubresource<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    name: string,
    subresource: string,
    body: KubeObject,
    opts: WriteOptions & { namespace?: string } = {},
  ): Promise<T> {
    return this.#json<T>({
      method: "PUT",
      path: resourcePath(ref, { namespace: opts.namespace ?? body.metadata?.namespace, name, subresource }),
      query: this.#writeQuery(opts),
      body,
    });
  }

  // ---- plumbing ---------------------------------------------------------------

  #put<T extends KubeObject>(ref: ResourceRef, obj: T, subresource: string | undefined, opts: WriteOptions): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw errors.badRequest(`metadata.name is required to update ${ref.resource}`);
    return this.#json<T>({
      method: "PUT",
      path: resourcePath(ref, { namespace: obj.metadata.namespace, name, subresource }),
      query: this.#writeQuery(opts),
      body: obj,
    });
  }

  #writeQuery(opts: WriteOptions): Query {
    return {
      fieldManager: opts.fieldManager ?? this.#manager,
      fieldValidation: opts.fieldValidation,
      dryRun: opts.dryRun ? "All" : undefined,
    };
  }

  #url(path: string, query?: Query): string {
    return this.#base + path + (query ? queryString(query) : "");
  }

  async #send(req: Request): Promise<Response> {
    try {
      return await this.#fetch(req);
    } catch (e) {
      if (req.signal.aborted) throw e;
      throw unavailable(this.#base, e);
    }
  }

  async #json<T>(call: Call): Promise<T> {
    const headers: Record<string, string> = { ...this.#headers };
    let body: Uint8Array<ArrayBuffer> | undefined;
    if (call.body !== undefined) {
      body = ENCODER.encode(typeof call.body === "string" ? call.body : JSON.stringify(call.body));
      headers["content-type"] = call.contentType ?? JSON_TYPE;
      // A known length lets the server read the body in one go (in-process there is no HTTP layer to add it).
      headers["content-length"] = String(body.byteLength);
    }
    const req = new Request(this.#url(call.path, call.query), { method: call.method, headers, ...(body !== undefined ? { body } : {}) });
    const res = await this.#send(req);
    if (!res.ok) throw await errorFromResponse(res);
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw unavailable(this.#base, e);
    }
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch {
      throw new ApiError({ reason: "InternalError", message: `the server sent a malformed response: ${text.slice(0, 200)}` });
    }
  }
}

/** The DeleteOptions body for one delete (or a collection's). */
function deleteOptionsBody(opts: Omit<DeleteOptions, "namespace">): Record<string, unknown> {
  return {
    kind: "DeleteOptions",
    apiVersion: "v1",
    ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
    ...(opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : {}),
    ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
    ...(opts.dryRun ? { dryRun: ["All"] } : {}),
  };
}

/** The base URL of in-process requests; never resolved or connected to. */
export const IN_PROCESS_BASE = "http://skiff.local";

/**
 * A client whose requests go straight into the API server's router (the
 * kernel passes `kernel.api.app.fetch`): no socket, no serialization beyond
 * JSON bodies.
 */
export function inProcessClient(fetch: FetchFn, opts: ClientOptions & { user?: AuthenticationResult } = {}): FetchClient {
  const { user, ...rest } = opts;
  // The kernel's own identity, attached to the Request object (nothing on the wire can set it); the gate trusts it.
  const send: FetchFn = user ? (req) => (setRequestUser(req, user), fetch(req)) : fetch;
  return new FetchClient({ ...rest, baseUrl: IN_PROCESS_BASE, fetch: send, objects: true });
}

export interface HttpClientOptions extends ClientOptions {
  /** The API server's URL (`https://10.0.0.1:6443`). */
  server: string;
  /** Bearer token sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** The fetch to use; default the global one. */
  fetch?: FetchFn;
}

/** A client that talks to an API server over the network. */
export function httpClient(opts: HttpClientOptions): FetchClient {
  const f: FetchFn = opts.fetch ?? ((req) => fetch(req));
  return new FetchClient({
    ...(opts.fieldManager !== undefined ? { fieldManager: opts.fieldManager } : {}),
    ...(opts.userAgent !== undefined ? { userAgent: opts.userAgent } : {}),
    baseUrl: opts.server,
    fetch: f,
    ...(opts.token ? { headers: { authorization: `Bearer ${opts.token}` } } : {}),
  });
}
