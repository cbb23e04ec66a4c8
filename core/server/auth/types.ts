/**
 * @module The API server's security contracts (issue 10): who is asking
 * (authentication), may they (authorization), and the request facts both
 * work from. Implementations live beside this file; the request pipeline in
 * `app.ts` runs authenticate → authorize → admission → handler.
 *
 * Shapes follow upstream's `k8s.io/apiserver` (`user.Info`,
 * `authorizer.Attributes`, `RequestInfoFactory`) so RBAC rules and
 * SubjectAccessReviews mean what they mean in Kubernetes.
 */

/** An authenticated (or anonymous) identity: upstream's user.Info. */
export interface UserInfo {
  /** `alice`, `system:serviceaccount:ns:name`, `system:node:n1`, `system:anonymous`. */
  name: string;
  uid?: string;
  /** Always includes `system:authenticated` (or `system:unauthenticated` for anonymous). */
  groups: string[];
  /** Authenticator-specific facts (e.g. a ServiceAccount token's bound pod). */
  extra?: Record<string, string[]>;
}

/**
 * The facts of one request, parsed from its method and path as upstream's
 * RequestInfoFactory does (`/api/v1/namespaces/ns/pods/p/log` → resource
 * `pods`, subresource `log`, name `p`, namespace `ns`, verb `get`).
 */
export interface RequestAttributes {
  /** True for `/api/…` and `/apis/…` resource paths; false for `/healthz`, `/version`, discovery roots… */
  resourceRequest: boolean;
  /** For non-resource requests: the URL path. */
  path: string;
  /**
   * get, list, watch, create, update, patch, delete, deletecollection (resource
   * requests); get, post, put, patch, delete (non-resource, lowercased method).
   */
  verb: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export interface AuthenticationResult {
  user: UserInfo;
  /** Which authenticator accepted the request (for the audit log). */
  authenticator: string;
}

/**
 * One way to authenticate (bearer token, client certificate, ServiceAccount
 * JWT). Answers null when the request carries nothing it understands;
 * throws an ApiError Unauthorized (401) when it carries something it
 * understands that is invalid (an expired or unknown token), which stops
 * the chain.
 */
export interface Authenticator {
  readonly name: string;
  authenticate(req: Request, conn: ConnectionInfo): Promise<AuthenticationResult | null> | AuthenticationResult | null;
}

/** What the transport knows about the connection a request came on. */
export interface ConnectionInfo {
  /** The verified client certificate chain (leaf first, DER), when TLS client auth succeeded. */
  peerCertificates?: Uint8Array[];
  remoteAddress?: string;
}

export type Decision = "allow" | "deny" | "no-opinion";

export interface AuthorizationResult {
  decision: Decision;
  /** Why (shown in a 403's message and in SubjectAccessReview status). */
  reason: string;
}

/** Upstream's authorizer.Authorizer: RBAC, Node, and any chained after. */
export interface Authorizer {
  readonly name: string;
  authorize(user: UserInfo, attrs: RequestAttributes): Promise<AuthorizationResult> | AuthorizationResult;
}

/** Well-known names (upstream `k8s.io/apiserver/pkg/authentication/user`). */
export const Groups = {
  authenticated: "system:authenticated",
  unauthenticated: "system:unauthenticated",
  masters: "system:masters",
  nodes: "system:nodes",
  serviceAccounts: "system:serviceaccounts",
} as const;

export const ANONYMOUS: UserInfo = { name: "system:anonymous", groups: [Groups.unauthenticated] };

const requestUsers = new WeakMap<Request, AuthenticationResult>();

/**
 * Records who sent `req`. The authentication stage calls it; an in-process
 * client may call it before handing the Request to the router (a WeakMap
 * keyed by the Request object: nothing on the wire can set it), which the
 * authentication stage then trusts as is.
 */
export function setRequestUser(req: Request, who: AuthenticationResult): void {
  requestUsers.set(req, who);
}

/** Who sent `req`, once authenticated (handlers, admission, audit). */
export function requestUser(req: Request): AuthenticationResult | undefined {
  return requestUsers.get(req);
}
