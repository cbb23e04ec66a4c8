/**
 * @module The request gate: authenticate → authorize, before routing.
 *
 * - A request the in-process client marked (`setRequestUser`) is trusted as is.
 * - Otherwise the authenticators run in order; the first that answers wins,
 *   one that throws (an invalid credential it understands) stops the chain.
 * - Nobody: `/healthz`, `/livez`, `/readyz`, `/version`, `/cacerts` are
 *   served to `system:anonymous`; everything else is 401 Unauthorized.
 * - Then the Authorizer, when one is set (none: authenticated means allowed);
 *   a deny or no-opinion is 403 with upstream's message.
 * - Endpoints the gate owns (`/cacerts`, the node certificate endpoint)
 *   are answered here, after authentication.
 */
import { ApiError } from "../../api/errors.ts";
import { statusResponse } from "../respond.ts";
import { requestConnection } from "./connection.ts";
import { requestAttributes } from "./request-attributes.ts";
import { ANONYMOUS, type AuthenticationResult, type Authenticator, type Authorizer, type RequestAttributes, requestUser, setRequestUser } from "./types.ts";

export const PUBLIC_PATHS = ["/healthz", "/livez", "/readyz", "/version", "/cacerts"];

/** An endpoint the gate answers itself, after authentication; it authorizes its callers itself. */
export interface GateEndpoint {
  method: string;
  path: string;
  /** Whether anonymous callers reach it (`/cacerts`). */
  public?: boolean;
  handle(req: Request, who: AuthenticationResult): Promise<Response> | Response;
}

export interface RequestGateOptions {
  authenticators: Authenticator[];
  authorizer?: Authorizer;
  endpoints?: GateEndpoint[];
}

export class RequestGate {
  /** Set or replaced at any time (RBAC is wired after plugins register). */
  authorizer: Authorizer | undefined;
  readonly #authenticators: Authenticator[];
  readonly #endpoints: GateEndpoint[];
  readonly #public: Set<string>;

  constructor(o: RequestGateOptions) {
    this.#authenticators = o.authenticators;
    this.authorizer = o.authorizer;
    this.#endpoints = o.endpoints ?? [];
    this.#public = new Set([...PUBLIC_PATHS, ...this.#endpoints.filter((e) => e.public).map((e) => e.path)]);
  }

  /** Undefined to let the request through to the router; otherwise the answer (401, 403, or a gate endpoint's). */
  async handle(req: Request, env?: unknown): Promise<Response | undefined> {
    const path = pathOf(req.url);
    let who = requestUser(req);
    if (!who) {
      try {
        who = await this.#authenticate(req, env);
      } catch (e) {
        return statusResponse(e instanceof ApiError ? e : unauthorized());
      }
      if (!who) {
        if (!this.#public.has(path)) return statusResponse(unauthorized());
        who = { user: ANONYMOUS, authenticator: "anonymous" };
      }
      setRequestUser(req, who);
    }
    const endpoint = this.#endpoints.find((e) => e.path === path && e.method === req.method);
    if (endpoint) {
      try {
        return await endpoint.handle(req, who);
      } catch (e) {
        return statusResponse(e);
      }
    }
    if (this.#public.has(path) || !this.authorizer) return undefined;
    const attrs = requestAttributes(req);
    const r = await this.authorizer.authorize(who.user, attrs);
    if (r.decision === "allow") return undefined;
    return statusResponse(new ApiError({ reason: "Forbidden", message: forbiddenMessage(who.user.name, attrs, r.reason) }));
  }

  async #authenticate(req: Request, env: unknown): Promise<AuthenticationResult | undefined> {
    const conn = requestConnection(req, env);
    for (const a of this.#authenticators) {
      const r = await a.authenticate(req, conn);
      if (r) return r;
    }
    return undefined;
  }
}

function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.slice(start).search(/[?#]/);
  return end < 0 ? url.slice(start) : url.slice(start, start + end);
}

export function unauthorized(): ApiError {
  return new ApiError({ reason: "Unauthorized", message: "Unauthorized" });
}

/** Upstream's 403 message: `pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "default"`. */
export function forbiddenMessage(user: string, a: RequestAttributes, reason: string): string {
  let msg: string;
  if (!a.resourceRequest) {
    msg = `forbidden: User "${user}" cannot ${a.verb} path "${a.path}"`;
  } else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    msg = `${a.resource}${a.apiGroup ? `.${a.apiGroup}` : ""}${a.name ? ` "${a.name}"` : ""} is forbidden: User "${user}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}"`;
    msg += a.namespace ? ` in the namespace "${a.namespace}"` : " at the cluster scope";
  }
  return reason ? `${msg}: ${reason}` : msg;
}
