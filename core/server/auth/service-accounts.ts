/**
 * @module ServiceAccount tokens: ES256 JWTs with upstream's claims, issued by
 * the TokenRequest API (`POST …/serviceaccounts/<name>/token`, which
 * `kubectl create token` calls, and the node agent for projected volumes)
 * and accepted as bearer tokens while the ServiceAccount — and the pod a
 * token is bound to, if any — still exists with the same uid. As upstream, a
 * pod being deleted keeps its tokens working through its grace period and
 * for 60 s after (`deletionTimestamp` is when the grace period ends), so
 * preStop hooks can still call the API; after that, or once the pod is gone
 * or recreated under a new uid, the token is rejected (401).
 *
 * A node (`system:node:<name>`) may only request tokens bound to a pod that
 * runs on it, named with its uid (upstream NodeRestriction's
 * `admitServiceAccount`); the Node authorizer has already checked that such
 * a pod uses the service account.
 *
 * Claims (kube-apiserver's `serviceaccount/claims.go`): `iss`, `sub` =
 * `system:serviceaccount:<ns>:<name>`, `aud`, `exp`, `iat`, `nbf`, `jti`,
 * and `kubernetes.io: { namespace, serviceaccount: {name, uid}, pod?: {name, uid} }`.
 * The signing key pair is `<dataDir>/tls/sa.key` / `sa.pub`.
 */
import { importPKCS8, importSPKI, jwtVerify, SignJWT } from "jose";
import { ApiError, errors } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { HandlerContext } from "../handlers/context.ts";
import { decodeBody, readBody } from "../request.ts";
import { json } from "../respond.ts";
import { nodeIdentity } from "./node-authorizer.ts";
import { type AuthenticationResult, type Authenticator, Groups, requestUser } from "./types.ts";
import { bearerToken } from "./tokens.ts";

export const DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local";
const ALG = "ES256";
const MIN_EXPIRATION_S = 600;
const DEFAULT_EXPIRATION_S = 3600;
/** Upstream caps requested lifetimes at the max token expiration (default 2^32 s); we keep a day's worth of sanity: 1 year. */
const MAX_EXPIRATION_S = 365 * 86_400;
/** How long after its deletion deadline a pod's tokens still authenticate (upstream's 60 s). */
const DELETED_POD_GRACE_MS = 60_000;

/** Reads one object by resource (`serviceaccounts`, `pods`); undefined when it does not exist. */
export type ObjectLookup = (resource: "serviceaccounts" | "pods", namespace: string, name: string) => Promise<KubeObject | undefined>;

interface KubernetesClaim {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
}

export interface ServiceAccountTokensOptions {
  /** PKCS#8 and SPKI PEM of the ES256 key pair. */
  key: { key: string; pub: string };
  issuer?: string;
  /** Audiences the API accepts (and the default audience of a TokenRequest). */
  apiAudiences?: string[];
  lookup: ObjectLookup;
  now?: () => Date;
}

export class ServiceAccountTokens implements Authenticator {
  readonly name = "service-account";
  readonly issuer: string;
  readonly apiAudiences: string[];
  readonly #o: ServiceAccountTokensOptions;
  #keys?: Promise<{ sign: CryptoKey; verify: CryptoKey }>;

  constructor(o: ServiceAccountTokensOptions) {
    this.#o = o;
    this.issuer = o.issuer ?? DEFAULT_ISSUER;
    this.apiAudiences = o.apiAudiences ?? [this.issuer];
  }

  #keyPair() {
    this.#keys ??= (async () => ({
      sign: (await importPKCS8(this.#o.key.key, ALG)) as CryptoKey,
      verify: (await importSPKI(this.#o.key.pub, ALG)) as CryptoKey,
    }))();
    return this.#keys;
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }

  /** Signs a token for `sa` (optionally bound to `pod`); returns it and when it expires. */
  async issue(o: { sa: KubeObject; pod?: KubeObject; audiences?: string[]; expirationSeconds: number }): Promise<{ token: string; expires: Date }> {
    const now = Math.floor(this.#now().getTime() / 1000);
    const exp = now + o.expirationSeconds;
    const ns = o.sa.metadata.namespace!;
    const claim: KubernetesClaim = {
      namespace: ns,
      serviceaccount: { name: o.sa.metadata.name!, uid: o.sa.metadata.uid! },
      ...(o.pod ? { pod: { name: o.pod.metadata.name!, uid: o.pod.metadata.uid! } } : {}),
    };
    const token = await new SignJWT({ "kubernetes.io": claim })
      .setProtectedHeader({ alg: ALG, typ: "JWT" })
      .setIssuer(this.issuer)
      .setSubject(`system:serviceaccount:${ns}:${o.sa.metadata.name}`)
      .setAudience(o.audiences && o.audiences.length > 0 ? o.audiences : this.apiAudiences)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(crypto.randomUUID())
      .sign((await this.#keyPair()).sign);
    return { token, expires: new Date(exp * 1000) };
  }

  async authenticate(req: Request): Promise<AuthenticationResult | null> {
    const token = bearerToken(req);
    if (!token || token.split(".").length !== 3) return null;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, (await this.#keyPair()).verify, {
        issuer: this.issuer,
        audience: this.apiAudiences,
        algorithms: [ALG],
        currentDate: this.#now(),
      }));
    } catch {
      return null; // not ours, forged or expired: the chain ends in 401
    }
    const k = payload["kubernetes.io"] as KubernetesClaim | undefined;
    const sub = `system:serviceaccount:${k?.namespace}:${k?.serviceaccount?.name}`;
    if (!k?.namespace || !k.serviceaccount?.name || payload.sub !== sub) throw unauthorized();
    const sa = await this.#o.lookup("serviceaccounts", k.namespace, k.serviceaccount.name);
    if (!sa || sa.metadata.uid !== k.serviceaccount.uid || sa.metadata.deletionTimestamp) throw unauthorized();
    const extra: Record<string, string[]> = {};
    if (k.pod) {
      const pod = await this.#o.lookup("pods", k.namespace, k.pod.name);
      if (!pod || pod.metadata.uid !== k.pod.uid) throw unauthorized();
      const deleted = pod.metadata.deletionTimestamp ? Date.parse(pod.metadata.deletionTimestamp) : undefined;
      if (deleted !== undefined && deleted < this.#now().getTime() - DELETED_POD_GRACE_MS) throw unauthorized();
      extra["authentication.kubernetes.io/pod-name"] = [k.pod.name];
      extra["authentication.kubernetes.io/pod-uid"] = [k.pod.uid];
    }
    if (typeof payload.jti === "string") extra["authentication.kubernetes.io/credential-id"] = [`JTI=${payload.jti}`];
    return {
      user: {
        name: sub,
        uid: k.serviceaccount.uid,
        groups: [Groups.serviceAccounts, `${Groups.serviceAccounts}:${k.namespace}`, Groups.authenticated],
        extra,
      },
      authenticator: this.name,
    };
  }

  /** The `serviceaccounts/token` subresource handler (POST a TokenRequest, get it back with `status.token`). */
  async tokenRequest(ctx: HandlerContext): Promise<Response> {
    if (ctx.req.method !== "POST") throw errors.methodNotAllowed("the server does not allow this method on the requested resource");
    const name = ctx.path.name!;
    const body = (decodeBody(await readBody(ctx.req), ctx.req.headers.get("content-type") ?? "", ctx.deps.protobuf) ?? {}) as {
      metadata?: Record<string, unknown>;
      spec?: { audiences?: string[] | null; expirationSeconds?: number | null; boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } | null };
    };
    const spec = body.spec ?? {};
    const expirationSeconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_S;
    const invalid = (field: string, value: unknown, message: string) =>
      errors.invalid({ kind: "TokenRequest", group: "authentication.k8s.io", name, causes: [{ reason: "FieldValueInvalid", field, message: `Invalid value: ${JSON.stringify(value)}: ${message}` }] });
    if (!Number.isInteger(expirationSeconds) || expirationSeconds < MIN_EXPIRATION_S) {
      throw invalid("spec.expirationSeconds", expirationSeconds, "may not specify a duration less than 10 minutes");
    }
    if (expirationSeconds > MAX_EXPIRATION_S) throw invalid("spec.expirationSeconds", expirationSeconds, "may not specify a duration larger than 1 year");
    const sa = (await ctx.deps.store.get(ctx.type, ctx.namespace, name)).object;
    let pod: KubeObject | undefined;
    const ref = spec.boundObjectRef;
    const node = nodeIdentity(requestUser(ctx.req)?.user);
    const forbid = (why: string) => errors.forbidden({ resource: "serviceaccounts", group: "", name }, why);
    if (node) {
      if (!ref || ref.kind !== "Pod" || (ref.apiVersion ?? "v1") !== "v1" || !ref.name) throw forbid("node requested token not bound to a pod");
      if (!ref.uid) throw forbid("node requested token with a pod binding without a uid");
    }
    if (ref) {
      if (ref.kind !== "Pod") throw invalid("spec.boundObjectRef.kind", ref.kind, 'supported values: "Pod"');
      const podType = ctx.deps.registry.get("", "v1", "pods")!;
      pod = (await ctx.deps.store.get(podType, ctx.namespace, ref.name ?? "")).object;
      if (ref.uid && ref.uid !== pod.metadata.uid) {
        throw new ApiError({ reason: "Conflict", message: `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated` });
      }
      const podSpec = (pod as { spec?: { serviceAccountName?: string; nodeName?: string } }).spec;
      if (node && podSpec?.nodeName !== node.name) throw forbid("node requested token bound to a pod scheduled on a different node");
      const spName = podSpec?.serviceAccountName || "default";
      if (spName !== name) throw errors.badRequest(`cannot bind a token for service account "${name}" to pod "${pod.metadata.name}" which runs as service account "${spName}"`);
    }
    const audiences = spec.audiences && spec.audiences.length > 0 ? spec.audiences : this.apiAudiences;
    const { token, expires } = await this.issue({ sa, ...(pod ? { pod } : {}), audiences, expirationSeconds });
    return json(
      {
        kind: "TokenRequest",
        apiVersion: "authentication.k8s.io/v1",
        metadata: { name, namespace: ctx.namespace, creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, "Z") },
        spec: {
          audiences,
          expirationSeconds,
          boundObjectRef: ref ? { kind: "Pod", apiVersion: "v1", name: pod!.metadata.name, uid: pod!.metadata.uid } : null,
        },
        status: { token, expirationTimestamp: expires.toISOString().replace(/\.\d{3}Z$/, "Z") },
      },
      201,
    );
  }
}

function unauthorized(): ApiError {
  return new ApiError({ reason: "Unauthorized", message: "Unauthorized" });
}
