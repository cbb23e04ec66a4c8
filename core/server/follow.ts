/**
 * @module Following a type: the current objects (as ADDED), then every
 * change, handed to a callback one event at a time; after a failure (410, a
 * cut-off) it starts over from a fresh list, until stopped. The kernel's
 * built-in loops (namespace lifecycle, CRDs, garbage collection) use it.
 */
import type { ResourceType } from "../api/registry.ts";
import type { Store, Watch, WatchEvent } from "../store/types.ts";

export interface FollowOptions {
  /** Also deliver BOOKMARK events (the first one marks the end of the initial objects). */
  bookmarks?: boolean;
  /** Delay before starting over after a failure. Default 1 s. */
  retryMs?: number;
  /** Told about each failure before the restart. */
  onError?: (e: unknown) => void;
}

export class Follower {
  #watch: Watch | undefined;
  #loop: Promise<void> | undefined;
  #stopped = false;
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly store: Store,
    private readonly type: ResourceType,
    private readonly onEvent: (ev: WatchEvent) => Promise<void> | void,
    private readonly opts: FollowOptions = {},
  ) {}

  start(): void {
    if (this.#stopped) return;
    const w = this.store.watch(this.type, { sendInitialEvents: true, bookmarks: this.opts.bookmarks ?? false });
    this.#watch = w;
    this.#loop = (async () => {
      try {
        for await (const ev of w) {
          if (this.#stopped) return;
          await this.onEvent(ev);
        }
      } catch (e) {
        if (this.#stopped) return;
        this.opts.onError?.(e);
        this.#retry = setTimeout(() => this.start(), this.opts.retryMs ?? 1000);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#watch?.close();
    await this.#loop;
  }
}
