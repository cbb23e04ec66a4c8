/**
 * @module Shared helpers for the store benchmarks (bench/<scenario>.ts). Not a
 * scenario itself: run.ts only treats top-level files of bench/ as scenarios.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DriverName, Durability } from "../../core/store/sql/driver.ts";
import type { KubeObject } from "../../core/api/meta.ts";

/** Flags parsed once by run.ts and handed to every scenario. */
export interface BenchOptions {
  /** Absent = the store's default for this runtime. */
  driver?: DriverName;
  /** Absent = the store's default (full). */
  durability?: Durability;
  /** Smaller sizes: a smoke test that finishes in seconds. */
  quick: boolean;
  /** Also measure over TLS with authentication and RBAC (scenarios that serve the API: `api`). */
  secure?: boolean;
}

/** What a scenario returns: numbers only in `metrics`; the targets, as text, beside them. */
export interface BenchResult {
  metrics: Record<string, number | number[]>;
  targets: Record<string, string>;
}

export class UsageError extends Error {}

const DRIVERS: readonly DriverName[] = ["bun-sqlite", "libsql"];
const DURABILITIES: readonly Durability[] = ["full", "normal"];

/**
 * Parses `--driver X`, `--durability X` (also `--flag=X`), `--quick` and `--secure`;
 * everything else is returned in `rest`. Throws UsageError on a bad value or
 * an unknown `--flag`.
 */
export function parseBenchArgs(argv: readonly string[]): { opts: BenchOptions; rest: string[] } {
  const opts: BenchOptions = { quick: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const flag = eq >= 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--quick":
        if (eq >= 0) throw new UsageError("--quick takes no value");
        opts.quick = true;
        break;
      case "--secure":
        if (eq >= 0) throw new UsageError("--secure takes no value");
        opts.secure = true;
        break;
      case "--driver": {
        const v = value();
        if (!DRIVERS.includes(v as DriverName)) throw new UsageError(`--driver must be one of ${DRIVERS.join("|")}, got "${v}"`);
        opts.driver = v as DriverName;
        break;
      }
      case "--durability": {
        const v = value();
        if (!DURABILITIES.includes(v as Durability)) {
          throw new UsageError(`--durability must be one of ${DURABILITIES.join("|")}, got "${v}"`);
        }
        opts.durability = v as Durability;
        break;
      }
      default:
        throw new UsageError(`unknown flag ${flag} (known: --driver, --durability, --quick, --secure)`);
    }
  }
  return { opts, rest };
}

/** The driver/durability part of SqliteStore.open / openSql options (absent flags stay absent). */
export function storeFlags(opts: BenchOptions): { driver?: DriverName; durability?: Durability } {
  return { ...(opts.driver ? { driver: opts.driver } : {}), ...(opts.durability ? { durability: opts.durability } : {}) };
}

/** A fresh temp directory for one database; removed when `fn` settles. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "skiff-bench-"));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One short structured progress line on stderr: `bench=<scenario> step=<step> k=v ...`. */
export function progress(scenario: string, step: string, fields: Record<string, string | number | boolean> = {}): void {
  let line = `bench=${scenario} step=${step}`;
  for (const [k, v] of Object.entries(fields)) line += ` ${k}=${typeof v === "number" ? fmt(v) : v}`;
  process.stderr.write(line + "\n");
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) >= 100 ? 0 : 3);
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The p-th percentile (0..100) of an ascending array, nearest-rank. NaN when empty. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Sorts a copy and returns the requested percentiles. */
export function percentiles(values: ArrayLike<number>, ps: number[]): number[] {
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  return ps.map((p) => percentileSorted(s, p));
}

/**
 * A latency histogram: fixed buckets of `resolutionMs` up to `maxMs`, plus one
 * overflow bucket; percentiles are reported at the bucket's upper edge.
 */
export class Histogram {
  readonly #buckets: Float64Array;
  #count = 0;
  #max = 0;
  #min = Infinity;
  #sum = 0;
  constructor(
    private readonly resolutionMs = 0.01,
    private readonly maxMs = 1000,
  ) {
    this.#buckets = new Float64Array(Math.ceil(maxMs / resolutionMs) + 1);
  }
  add(ms: number, times = 1): void {
    const i = ms < 0 ? 0 : Math.min(this.#buckets.length - 1, Math.floor(ms / this.resolutionMs));
    this.#buckets[i]! += times;
    this.#count += times;
    this.#sum += ms * times;
    if (ms > this.#max) this.#max = ms;
    if (ms < this.#min) this.#min = ms;
  }
  get count(): number {
    return this.#count;
  }
  get max(): number {
    return this.#max;
  }
  get min(): number {
    return this.#min;
  }
  get mean(): number {
    return this.#count ? this.#sum / this.#count : NaN;
  }
  percentile(p: number): number {
    if (this.#count === 0) return NaN;
    const rank = Math.ceil((p / 100) * this.#count);
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i]!;
      if (seen >= rank) return i === this.#buckets.length - 1 ? this.#max : Math.min((i + 1) * this.resolutionMs, this.#max);
    }
    return this.#max;
  }
}

/** Forces a full garbage collection when the runtime allows it; false when it cannot. */
export function forceGc(): boolean {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun) {
    bun.gc(true);
    return true;
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    return true;
  }
  return false;
}

/** Heap in use after a few forced collections. */
export function settledHeapUsed(): number {
  for (let i = 0; i < 3; i++) forceGc();
  return process.memoryUsage().heapUsed;
}

/** Size of a SQLite database file plus its WAL (0 for a missing file). */
export function dbBytes(path: string): { db: number; wal: number } {
  const size = (p: string) => {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  };
  return { db: size(path), wal: size(`${path}-wal`) };
}

/**
 * A realistic Deployment-owned pod, about 1 KB of JSON once the store has
 * added uid, resourceVersion, generation and creationTimestamp.
 */
export function realisticPod(name: string, ns: string, i: number, extraLabels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: ns,
      labels: { app: "web-frontend", tier: "frontend", "pod-template-hash": "7c9d8f6b5d", ...extraLabels },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: "web-frontend-7c9d8f6b5d",
          uid: "3f1c2a9e-5b7d-4c1e-9a8f-2d6b0e4c7a15",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      containers: [
        {
          name: "web",
          image: "registry.example.com/team/web-frontend:1.24.3",
          ports: [
            { name: "http", containerPort: 8080, protocol: "TCP" },
          ],
          env: [
            { name: "LOG_LEVEL", value: "info" },
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          ],
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
          imagePullPolicy: "IfNotPresent",
        },
      ],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      serviceAccountName: "web-frontend",
      nodeName: `node-${i % 20}`,
    },
    status: { phase: "Running", podIP: `10.42.${(i >> 8) & 255}.${i & 255}` },
  } as KubeObject;
}
