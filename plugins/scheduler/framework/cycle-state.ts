/** @module The per-cycle scratch space plugins share while one pod is scheduled. */
import type { CycleState as CycleStateContract, StateData } from "../../../core/plugin/scheduler-framework.ts";

export class CycleState implements CycleStateContract {
  readonly #data = new Map<string, StateData>();
  /** Plugins whose PreFilter returned Skip: their Filter is not run. */
  skipFilter: ReadonlySet<string> = EMPTY;
  /** Plugins whose PreScore returned Skip: their Score is not run. */
  skipScore: ReadonlySet<string> = EMPTY;

  read<T extends StateData>(key: string): T | undefined {
    return this.#data.get(key) as T | undefined;
  }

  write<T extends StateData>(key: string, value: T): void {
    this.#data.set(key, value);
  }

  delete(key: string): void {
    this.#data.delete(key);
  }

  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.#data) c.#data.set(k, v.clone ? v.clone() : v);
    c.skipFilter = this.skipFilter;
    c.skipScore = this.skipScore;
    return c;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
