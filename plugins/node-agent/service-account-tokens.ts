/**
 * @module ServiceAccount tokens for projected volumes, as the kubelet's
 * token manager (`pkg/kubelet/token`) gets and keeps them: one TokenRequest
 * (`POST …/serviceaccounts/<sa>/token`) per pod, service account, audience
 * and lifetime, bound to the pod (kind Pod, name, uid), cached and reused
 * until it needs a refresh — when 80 % of its lifetime has passed, or once
 * it is 24 h old, minus up to 10 s of jitter (`requiresRefresh`). Tokens of
 * a pod are forgotten when the pod is (`forgetPod`), so nothing refreshes
 * them any more.
 *
 * The pod worker writes the token into the volume (volumes.ts) and syncs the
 * pod again at `nextRefresh`, which rewrites the volume atomically.
 */
import { isApiError } from "../../core/api/errors.ts";
import type { Client } from "../../core/client/types.ts";
import { type Pod, serviceAccountsRef } from "./types.ts";

/** Lifetime asked for when a projection does not say (the ServiceAccount admission plugin's 3607 s). */
export const DEFAULT_EXPIRATION_SECONDS = 3607;
/** The API's minimum (TokenRequest validation). */
export const MIN_EXPIRATION_SECONDS = 600;
const MAX_TTL_MS = 24 * 3600_000;
const MAX_JITTER_MS = 10_000;
const FORBIDDEN_RETRIES = 4;

/** A token as the TokenRequest returned it. */
export interface IssuedToken {
  token: string;
  expirationSeconds: number;
  /** When it expires (ms since the epoch). */
  expiresAt: number;
}

/**
 * kubelet's `requiresRefresh`: true once `now` is past 80 % of the token's
 * lifetime, or past 24 h after it was issued, each less `jitterMs`.
 */
export function requiresRefresh(t: Pick<IssuedToken, "expirationSeconds" | "expiresAt">, now: number, jitterMs = 0): boolean {
  return now >= refreshAt(t, jitterMs);
}

/** The moment `requiresRefresh` turns true. */
export function refreshAt(t: Pick<IssuedToken, "expirationSeconds" | "expiresAt">, jitterMs = 0): number {
  const ttl = t.expirationSeconds * 1000;
  const issuedAt = t.expiresAt - ttl;
  return Math.min(issuedAt + MAX_TTL_MS, t.expiresAt - ttl / 5) - jitterMs;
}

export interface TokenProjection {
  serviceAccount: string;
  audience?: string;
  expirationSeconds?: number;
}

export interface TokenManagerOptions {
  client: Client;
  /** Clock (tests use a fake one). */
  now?: () => number;
  /** 0..1; kubelet's `rand.Float64()` for the jitter. */
  random?: () => number;
}

interface Entry extends IssuedToken {
  podUid: string;
  /** When this entry must be refreshed (jitter drawn once per token). */
  refreshAt: number;
}

export class ServiceAccountTokenManager {
  readonly #o: TokenManagerOptions;
  readonly #cache = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<Entry>>();
  /** Pods forgotten, so that an answer arriving after `forgetPod` is not cached. */
  readonly #forgotten = new Set<string>();

  constructor(o: TokenManagerOptions) {
    this.#o = o;
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }

  /**
   * The token for `pod` and `projection`: the cached one while it does not
   * need a refresh, else a new one from the API (the cached one is kept
   * while it is still valid if the request fails, as the kubelet does).
   */
  async token(pod: Pod, projection: TokenProjection): Promise<string> {
    const uid = pod.metadata.uid ?? "";
    const expirationSeconds = projection.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    const audiences = projection.audience ? [projection.audience] : [];
    const key = JSON.stringify([uid, pod.metadata.namespace, projection.serviceAccount, audiences, expirationSeconds]);
    const cached = this.#cache.get(key);
    const now = this.#now();
    if (cached && now < cached.refreshAt) return cached.token;
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#request(pod, projection.serviceAccount, audiences, expirationSeconds).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    try {
      const e = await pending;
      // A pod forgotten meanwhile stays forgotten.
      if (this.#forgotten.has(uid)) return e.token;
      this.#cache.set(key, e);
      return e.token;
    } catch (err) {
      if (cached && now < cached.expiresAt) return cached.token;
      throw err;
    }
  }

  async #request(pod: Pod, sa: string, audiences: string[], expirationSeconds: number): Promise<Entry> {
    // The Node authorizer answers from its own pod cache, which may not have this pod yet: a Forbidden right after the pod appeared is retried briefly.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#requestOnce(pod, sa, audiences, expirationSeconds);
      } catch (e) {
        if (!isApiError(e, "Forbidden") || attempt >= FORBIDDEN_RETRIES) throw e;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  async #requestOnce(pod: Pod, sa: string, audiences: string[], expirationSeconds: number): Promise<Entry> {
    const tr = await this.#o.client.createSubresource<{ apiVersion: string; kind: string; metadata: Record<string, unknown>; status?: { token?: string; expirationTimestamp?: string } }>(
      serviceAccountsRef,
      sa,
      "token",
      {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        metadata: {},
        spec: { audiences, expirationSeconds, boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata.name, uid: pod.metadata.uid } },
      } as never,
      { namespace: pod.metadata.namespace ?? "default" },
    );
    const token = tr.status?.token;
    const expiresAt = Date.parse(tr.status?.expirationTimestamp ?? "");
    if (!token || Number.isNaN(expiresAt)) throw new Error(`the TokenRequest for service account ${sa} came back without a token`);
    const jitter = (this.#o.random ?? Math.random)() * MAX_JITTER_MS;
    const t = { token, expirationSeconds, expiresAt };
    return { ...t, podUid: pod.metadata.uid ?? "", refreshAt: refreshAt(t, jitter) };
  }

  /** Milliseconds until the next token of this pod needs a refresh (≤ 0: now), if it has any. */
  refreshIn(podUid: string): number | undefined {
    const next = this.nextRefresh(podUid);
    return next === undefined ? undefined : next - this.#now();
  }

  /** When the next token of this pod needs a refresh (ms since the epoch), if it has any. */
  nextRefresh(podUid: string): number | undefined {
    let next: number | undefined;
    for (const e of this.#cache.values()) if (e.podUid === podUid) next = Math.min(next ?? Infinity, e.refreshAt);
    return next;
  }

  /** The pod is gone: drop its tokens; nothing refreshes them any more. */
  forgetPod(podUid: string): void {
    this.#forgotten.add(podUid);
    // Bounded: a late answer for a pod forgotten long ago is the only thing this guards against.
    if (this.#forgotten.size > 4096) this.#forgotten.delete(this.#forgotten.values().next().value!);
    for (const [k, e] of this.#cache) if (e.podUid === podUid) this.#cache.delete(k);
  }

  /** How many tokens are cached (tests). */
  get size(): number {
    return this.#cache.size;
  }
}
