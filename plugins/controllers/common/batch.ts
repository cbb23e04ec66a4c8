/**
 * @module Slow start (upstream `slowStartBatch`): run `count` calls in
 * batches of 1, 2, 4, … all of a batch concurrently, stopping after the first
 * batch with a failure. A request that fails for a systemic reason (quota,
 * a terminating namespace) then fails once or twice, not `count` times.
 */
export interface SlowStartResult {
  /** Calls that succeeded. */
  successes: number;
  /** Calls never made because an earlier batch failed. */
  skipped: number;
  /** The first failure. */
  error?: unknown;
}

export async function slowStartBatch(
  count: number,
  fn: (i: number) => Promise<void>,
  opts: { initialBatch?: number; maxBatch?: number } = {},
): Promise<SlowStartResult> {
  let remaining = count;
  let successes = 0;
  let index = 0;
  const max = opts.maxBatch ?? Infinity;
  for (let size = Math.min(remaining, opts.initialBatch ?? 1); size > 0; size = Math.min(2 * size, max, remaining)) {
    let error: unknown;
    let failed = false;
    const batch: Promise<void>[] = [];
    for (let k = 0; k < size; k++) {
      const i = index++;
      batch.push(
        fn(i).then(
          () => {
            successes++;
          },
          (e: unknown) => {
            if (!failed) error = e;
            failed = true;
          },
        ),
      );
    }
    await Promise.all(batch);
    remaining -= size;
    if (failed) return { successes, skipped: remaining, error };
  }
  return { successes, skipped: 0 };
}
