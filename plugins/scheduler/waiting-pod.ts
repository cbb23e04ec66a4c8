/** @module A pod parked by Permit plugins that returned Wait, until each allows it, one rejects it, or time runs out. */
import { setTimeout as delay } from "node:timers";
import type { Status, WaitingPod } from "../../core/plugin/scheduler-framework.ts";
import type { PodInfoImpl } from "./framework/pod-info.ts";
import { SUCCESS } from "./framework/status.ts";

/** Upstream caps a Permit wait at 15 minutes. */
const MAX_WAIT_MS = 15 * 60_000;

export class WaitingPodImpl implements WaitingPod {
  /** Resolves with Success once every plugin allowed, or the rejection. */
  readonly result: Promise<Status>;
  readonly #pending = new Map<string, ReturnType<typeof setTimeout>>();
  #resolve!: (s: Status) => void;
  #done = false;

  constructor(
    readonly pod: PodInfoImpl,
    readonly nodeName: string,
    waits: ReadonlyMap<string, number>,
  ) {
    this.result = new Promise((r) => (this.#resolve = r));
    for (const [plugin, ms] of waits) {
      const wait = Math.min(Math.max(0, ms), MAX_WAIT_MS);
      const timer = delay(() => this.reject(plugin, `rejected due to timeout after waiting ${wait}ms at plugin ${plugin}`), wait);
      (timer as { unref?: () => void }).unref?.();
      this.#pending.set(plugin, timer);
    }
  }

  pendingPlugins(): string[] {
    return [...this.#pending.keys()];
  }

  allow(plugin: string): void {
    const t = this.#pending.get(plugin);
    if (t === undefined || this.#done) return;
    clearTimeout(t);
    this.#pending.delete(plugin);
    if (this.#pending.size === 0) this.#finish(SUCCESS);
  }

  reject(plugin: string, message: string): void {
    this.#finish({ code: "Unschedulable", reasons: [message], plugin });
  }

  #finish(s: Status): void {
    if (this.#done) return;
    this.#done = true;
    for (const t of this.#pending.values()) clearTimeout(t);
    this.#pending.clear();
    this.#resolve(s);
  }
}
