/**
 * @module `mapWatch(w, f)`: a Watch whose events are `w`'s passed through
 * `f` — what the store wrappers (version conversion, decryption) hand out.
 */
import type { Watch, WatchEvent } from "./types.ts";

export function mapWatch(w: Watch, f: (e: WatchEvent) => WatchEvent): Watch {
  const mapped: Watch = {
    async nextBatch() {
      const b = await w.nextBatch();
      return b === null ? null : b.map(f);
    },
    close: () => w.close(),
    get lastRevision() {
      return w.lastRevision;
    },
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const b = await mapped.nextBatch();
          if (b === null) return;
          yield* b;
        }
      } finally {
        w.close();
      }
    },
  };
  return mapped;
}
