/**
 * @module Node heartbeats: one Lease per node in `kube-node-lease`, named
 * after the node and owned by it, renewed every `renewIntervalMs` (kubelet:
 * 10 s, a quarter of the 40 s duration). For many nodes in one process the
 * renewals are spread over the interval and run a few at a time, so 1,000
 * fake nodes cost 100 small writes a second, evenly.
 */
import { isApiError } from "../../core/api/errors.ts";
import type { Client } from "../../core/client/types.ts";
import type { Logger } from "../../core/log.ts";
import { type Lease, leasesRef, microTime } from "./types.ts";

export const LEASE_NAMESPACE = "kube-node-lease";

export interface LeaseOptions {
  durationSeconds: number;
  renewIntervalMs: number;
  /** Renewals in flight at once. */
  concurrency: number;
}

interface Held {
  node: string;
  nodeUid?: string;
  lease?: Lease;
  due: number;
  retryMs: number;
  busy: boolean;
  renewals: number;
  inflight?: Promise<void>;
}

export class LeaseRenewer {
  readonly #held = new Map<string, Held>();
  #timer?: ReturnType<typeof setTimeout>;
  #active = 0;
  #stopped = false;

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
    private readonly opts: LeaseOptions,
  ) {}

  /** Starts heartbeating for `node`; the first renewal is right away. */
  add(node: string, nodeUid: string | undefined): void {
    if (!this.#held.has(node)) this.#held.set(node, { node, ...(nodeUid ? { nodeUid } : {}), due: Date.now(), retryMs: 200, busy: false, renewals: 0 });
    this.#schedule(0);
  }

  /** Renews now and resolves once done (registration waits for the first lease). */
  async renewNow(node: string): Promise<void> {
    const h = this.#held.get(node);
    if (!h) return;
    await (h.inflight ?? this.#renew(h));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#tick(), ms);
    this.#timer.unref?.();
  }

  #tick(): void {
    const now = Date.now();
    let next = Infinity;
    for (const h of this.#held.values()) {
      if (h.busy) continue;
      if (h.due <= now) {
        if (this.#active >= this.opts.concurrency) {
          next = Math.min(next, now + 5);
          continue;
        }
        this.#active++;
        void this.#renew(h).finally(() => {
          this.#active--;
        });
      }
      next = Math.min(next, h.due);
    }
    this.#schedule(Math.max(5, Math.min(1000, (Number.isFinite(next) ? next : now + 1000) - now)));
  }

  #renew(h: Held): Promise<void> {
    h.inflight = this.#doRenew(h).finally(() => (h.inflight = undefined));
    return h.inflight;
  }

  async #doRenew(h: Held): Promise<void> {
    h.busy = true;
    try {
      const now = Date.now();
      const spec = { holderIdentity: h.node, leaseDurationSeconds: this.opts.durationSeconds, renewTime: microTime(now) };
      if (!h.lease) {
        try {
          h.lease = await this.client.get<Lease>(leasesRef, h.node, { namespace: LEASE_NAMESPACE });
        } catch (e) {
          if (!isApiError(e, "NotFound")) throw e;
          h.lease = await this.client.create<Lease>(leasesRef, {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: {
              name: h.node,
              namespace: LEASE_NAMESPACE,
              ...(h.nodeUid ? { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: h.node, uid: h.nodeUid }] } : {}),
            },
            spec,
          });
          this.#renewed(h);
          return;
        }
      }
      h.lease = await this.client.update<Lease>(leasesRef, { ...h.lease, spec: { ...h.lease.spec, ...spec } });
      this.#renewed(h);
    } catch (e) {
      if (isApiError(e, "Conflict") || isApiError(e, "NotFound")) delete h.lease;
      this.log.warn({ node: h.node, err: (e as Error).message, retryInMs: h.retryMs }, "node lease renewal failed");
      h.due = Date.now() + h.retryMs;
      h.retryMs = Math.min(h.retryMs * 2, 7000);
    } finally {
      h.busy = false;
    }
  }

  #renewed(h: Held): void {
    h.retryMs = 200;
    // Spread renewals of many nodes evenly: the second one comes after a random part of the
    // interval, later ones a full interval apart (minus a little jitter).
    const f = h.renewals++ === 0 && this.#held.size > 1 ? Math.random() : 0.9 + Math.random() * 0.1;
    h.due = Date.now() + this.opts.renewIntervalMs * f;
  }
}
