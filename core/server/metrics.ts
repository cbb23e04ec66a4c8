/**
 * @module Prometheus metrics: request counts and latency histograms per verb,
 * resource and code, with kube-apiserver's metric names, served in
 * prom-client's registry and text format.
 *
 * The two request metrics are prom-client–compatible metric objects of our
 * own (`get`, `getForPromString`, `reset`, as `Registry` calls them) rather
 * than prom-client's Counter and Histogram: those hash the label object and
 * look up the bucket on every call, which cost several microseconds of every
 * request. Here a request adds to plain numbers of a child found by one map
 * lookup. The exposition is what prom-client's own metrics produce: same
 * series order (first observation), labels, bucket bounds, sums and counts.
 */
import type { Registry } from "prom-client";

const REQUEST_LABELS = ["verb", "group", "version", "resource", "subresource"] as const;
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type Labels = Record<string, string>;

/** One value as prom-client's `Registry` formats it (members in prom-client's order). */
interface MetricValue {
  labels?: Record<string, string | number>;
  sharedLabels?: Labels;
  value: number;
  metricName?: string;
  exemplar?: null | undefined;
}

interface MetricData {
  name: string;
  help: string;
  type: "counter" | "histogram";
  values: MetricValue[];
  aggregator: "sum";
}

/** A counter with labels (registered in the registry when it is first built). */
class LabeledCounter {
  readonly type = "counter";
  readonly aggregator = "sum";
  #series = new Map<string, { value: number; labels: Labels }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** Adds 1 to the series `key` (a unique spelling of `labels`, which is created on first use). */
  inc(key: string, labels: () => Labels): void {
    const s = this.#series.get(key);
    if (s) s.value += 1;
    else this.#series.set(key, { value: 1, labels: labels() });
  }

  async get(): Promise<MetricData> {
    return { help: this.help, name: this.name, type: this.type, values: [...this.#series.values()], aggregator: this.aggregator };
  }

  reset(): void {
    this.#series = new Map();
  }
}

interface HistogramSeries {
  labels: Labels;
  /** Observations per bucket (not cumulative); index BUCKETS.length counts those above every bound. */
  counts: number[];
  sum: number;
  count: number;
}

/** A histogram with labels and fixed buckets (registered in the registry when it is first built). */
class LabeledHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  #series = new Map<string, HistogramSeries>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  observe(key: string, labels: () => Labels, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    let s = this.#series.get(key);
    if (!s) {
      s = { labels: labels(), counts: new Array<number>(BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    let i = 0;
    while (i < BUCKETS.length && value > (BUCKETS[i] as number)) i++;
    s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }

  /** Buckets with `le` and the series labels shared, as prom-client's Histogram gives them to the registry. */
  async getForPromString(): Promise<MetricData> {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.#series.values()) {
      let acc = 0;
      for (let i = 0; i < BUCKETS.length; i++) {
        acc += s.counts[i] as number;
        values.push({ labels: { le: BUCKETS[i] as number }, sharedLabels: s.labels, value: acc, metricName: bucket, exemplar: null });
      }
      values.push({ labels: { le: "+Inf" }, sharedLabels: s.labels, value: s.count, metricName: bucket, exemplar: null });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count`, exemplar: undefined });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The same values with the shared labels folded in (prom-client's `get`, for JSON output). */
  async get(): Promise<MetricData> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return data;
  }

  reset(): void {
    this.#series = new Map();
  }
}

export class ApiMetrics {
  #registry: Registry | undefined;
  readonly #requests = new LabeledCounter(
    "apiserver_request_total",
    "Counter of apiserver requests broken out for each verb, group, version, resource and HTTP response code.",
  );
  readonly #latency = new LabeledHistogram(
    "apiserver_request_duration_seconds",
    "Response latency distribution in seconds for each verb, group, version and resource.",
  );

  /**
   * prom-client's registry, loaded on the first scrape: importing prom-client
   * costs ~40 ms of start-up, and most servers are never scraped early.
   */
  async registry(): Promise<Registry> {
    if (!this.#registry) {
      const { Registry } = await import("prom-client");
      const r = new Registry();
      r.registerMetric(this.#requests as never);
      r.registerMetric(this.#latency as never);
      this.#registry = r;
    }
    return this.#registry;
  }

  observe(l: { verb: string; group: string; version: string; resource: string; subresource: string }, code: number, seconds: number): void {
    const series = `${l.verb}|${l.group}|${l.version}|${l.resource}|${l.subresource}`;
    this.#requests.inc(`${series}|${code}`, () => ({ ...labelsOf(l), code: String(code) }));
    // Watches are long-lived: their duration is not request latency.
    if (l.verb !== "watch") this.#latency.observe(series, () => labelsOf(l), seconds);
  }

  async text(): Promise<{ body: string; contentType: string }> {
    const r = await this.registry();
    return { body: await r.metrics(), contentType: r.contentType };
  }
}

function labelsOf(l: Record<(typeof REQUEST_LABELS)[number], string>): Labels {
  const out: Labels = {};
  for (const n of REQUEST_LABELS) out[n] = l[n];
  return out;
}
