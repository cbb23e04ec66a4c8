/**
 * @module Leader election on a coordination.k8s.io/v1 Lease, with client-go's
 * `leaderelection` semantics, so that several servers sharing one store never
 * run the same controller at once.
 *
 * - One Lease per controller group, in `kube-system`, named after the plugin.
 *   `holderIdentity` is `<host>_<random uuid>` (unique per process start).
 * - A candidate tries every `retryPeriod` (2 s, jittered up to +20 %). It may
 *   take the Lease when there is none, when it has no holder (released), or
 *   when the record has not changed for `leaseDuration` (15 s) *as observed
 *   locally* — client-go's rule, which needs no synchronized clocks.
 * - The leader renews every `retryPeriod`; if no renewal has succeeded for
 *   `renewDeadline` (10 s) it stops leading (its work is aborted) and becomes
 *   a candidate again. Since renewDeadline < leaseDuration, it stops before
 *   anyone else may take over.
 * - On shutdown a leader releases the Lease (holder "", duration 1 s), so a
 *   standby takes over at its next try instead of after 15 s.
 * Writes are optimistic (resourceVersion): two candidates racing for the
 * Lease cannot both win.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Client } from "../../../core/client/types.ts";
import type { Logger } from "../../../core/log.ts";
import { LEASES, microTime } from "./refs.ts";

export interface LeaderElectionConfig {
  /** Lease namespace; default `kube-system`. */
  namespace?: string;
  name: string;
  /** Default `<hostname>_<uuid>`. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  now?: () => number;
}

export const LEASE_DURATION_MS = 15_000;
export const RENEW_DEADLINE_MS = 10_000;
export const RETRY_PERIOD_MS = 2_000;

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec?: LeaseSpec };

/** Identity for this process: `<host>_<uuid>`, as client-go controllers use. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

export class LeaderElector {
  readonly identity: string;
  readonly #cfg: Required<Omit<LeaderElectionConfig, "identity">>;
  #observed: { holder: string; rv: string; at: number; durationMs: number } | undefined;
  #leading = false;

  constructor(
    private readonly client: Client,
    cfg: LeaderElectionConfig,
    private readonly log: Logger,
  ) {
    this.identity = cfg.identity ?? defaultIdentity();
    this.#cfg = {
      namespace: cfg.namespace ?? "kube-system",
      name: cfg.name,
      leaseDurationMs: cfg.leaseDurationMs ?? LEASE_DURATION_MS,
      renewDeadlineMs: cfg.renewDeadlineMs ?? RENEW_DEADLINE_MS,
      retryPeriodMs: cfg.retryPeriodMs ?? RETRY_PERIOD_MS,
      now: cfg.now ?? Date.now,
    };
    if (this.#cfg.renewDeadlineMs >= this.#cfg.leaseDurationMs) throw new Error("leader election: renewDeadline must be shorter than leaseDuration");
  }

  get leading(): boolean {
    return this.#leading;
  }

  /**
   * Campaigns until `signal` aborts. Each time it wins, `lead(termSignal)`
   * runs; `termSignal` aborts when leadership is lost or on shutdown, and the
   * elector waits for `lead` to settle before campaigning again. A rejection
   * of `lead` ends the term (and is rethrown once the Lease is released).
   */
  async run(signal: AbortSignal, lead: (term: AbortSignal) => Promise<void>): Promise<void> {
    while (!signal.aborted) {
      if (!(await this.#acquire(signal))) break;
      const term = new AbortController();
      const stop = () => term.abort();
      signal.addEventListener("abort", stop, { once: true });
      this.#leading = true;
      this.log.info({ lease: this.#key(), identity: this.identity }, "became leader");
      let failure: unknown;
      const work = lead(term.signal).catch((e: unknown) => {
        failure = e;
        term.abort();
      });
      await this.#renewLoop(term.signal);
      term.abort();
      signal.removeEventListener("abort", stop);
      await work;
      this.#leading = false;
      if (signal.aborted || failure !== undefined) {
        await this.#release();
        if (failure !== undefined) throw failure;
        break;
      }
      this.log.warn({ lease: this.#key(), identity: this.identity }, "leadership lost");
    }
  }

  #key(): string {
    return `${this.#cfg.namespace}/${this.#cfg.name}`;
  }

  /** Tries until it holds the Lease (true) or `signal` aborts (false). */
  async #acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) return true;
      await sleep(this.#cfg.retryPeriodMs * (1 + Math.random() * 0.2), signal);
    }
    return false;
  }

  /** Renews every retryPeriod until a renewal has failed for renewDeadline or `term` aborts. */
  async #renewLoop(term: AbortSignal): Promise<void> {
    let lastRenew = this.#cfg.now();
    while (!term.aborted) {
      await sleep(this.#cfg.retryPeriodMs, term);
      if (term.aborted) return;
      if (await this.tryAcquireOrRenew()) lastRenew = this.#cfg.now();
      else if (this.#cfg.now() - lastRenew >= this.#cfg.renewDeadlineMs || this.#observed?.holder !== this.identity) return;
    }
  }

  /** One attempt (client-go tryAcquireOrRenew): true when this identity holds the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#cfg.now();
    const { namespace, name } = this.#cfg;
    const duration = Math.round(this.#cfg.leaseDurationMs / 1000);
    let lease: Lease;
    try {
      lease = await this.client.get<Lease>(LEASES, name, { namespace });
    } catch (e) {
      if (!isApiError(e, "NotFound")) {
        this.log.warn({ lease: this.#key(), err: (e as Error).message }, "reading the lease failed");
        return false;
      }
      try {
        const created = await this.client.create<Lease>(LEASES, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: { holderIdentity: this.identity, leaseDurationSeconds: duration, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        this.#observe(created, now);
        return true;
      } catch (e2) {
        if (!isApiError(e2, "AlreadyExists")) this.log.warn({ lease: this.#key(), err: (e2 as Error).message }, "creating the lease failed");
        return false;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    this.#observe(lease, now);
    const obs = this.#observed!;
    if (holder !== "" && holder !== this.identity && obs.at + obs.durationMs > now) return false;
    const next: LeaseSpec = { ...spec, holderIdentity: this.identity, leaseDurationSeconds: duration, renewTime: microTime(now) };
    if (holder !== this.identity) {
      next.acquireTime = microTime(now);
      next.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
    }
    try {
      const updated = await this.client.update<Lease>(LEASES, { ...lease, spec: next });
      this.#observe(updated, now);
      return true;
    } catch (e) {
      if (!isApiError(e, "Conflict")) this.log.warn({ lease: this.#key(), err: (e as Error).message }, "updating the lease failed");
      return false;
    }
  }

  /** Remembers when the Lease record last changed, by local clock. */
  #observe(lease: Lease, now: number): void {
    const rv = lease.metadata.resourceVersion ?? "";
    const holder = lease.spec?.holderIdentity ?? "";
    if (this.#observed?.rv === rv) return;
    this.#observed = { holder, rv, at: now, durationMs: (lease.spec?.leaseDurationSeconds ?? 15) * 1000 };
  }

  /** Gives the Lease up if this identity holds it. */
  async #release(): Promise<void> {
    try {
      const lease = await this.client.get<Lease>(LEASES, this.#cfg.name, { namespace: this.#cfg.namespace });
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = microTime(this.#cfg.now());
      await this.client.update<Lease>(LEASES, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
      });
      this.log.info({ lease: this.#key() }, "released leadership");
    } catch (e) {
      this.log.warn({ lease: this.#key(), err: (e as Error).message }, "releasing the lease failed");
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
