/**
 * @module Prometheus metrics (prom-client): request counts and latency
 * histograms per verb, resource and code, with kube-apiserver's metric names.
 */
import { Counter, Histogram, Registry } from "prom-client";

export class ApiMetrics {
  readonly registry = new Registry();
  readonly #requests = new Counter({
    name: "apiserver_request_total",
    help: "Counter of apiserver requests broken out for each verb, group, version, resource and HTTP response code.",
    labelNames: ["verb", "group", "version", "resource", "subresource", "code"] as const,
    registers: [this.registry],
  });
  readonly #latency = new Histogram({
    name: "apiserver_request_duration_seconds",
    help: "Response latency distribution in seconds for each verb, group, version and resource.",
    labelNames: ["verb", "group", "version", "resource", "subresource"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  /** Label children by label values: prom-client hashes label objects on every call otherwise. */
  readonly #children = new Map<string, { count: { inc(): void }; latency: { observe(v: number): void } }>();

  observe(l: { verb: string; group: string; version: string; resource: string; subresource: string }, code: number, seconds: number): void {
    const key = `${l.verb}|${l.group}|${l.version}|${l.resource}|${l.subresource}|${code}`;
    let c = this.#children.get(key);
    if (!c) {
      c = {
        count: this.#requests.labels(l.verb, l.group, l.version, l.resource, l.subresource, String(code)),
        latency: this.#latency.labels(l.verb, l.group, l.version, l.resource, l.subresource),
      };
      this.#children.set(key, c);
    }
    c.count.inc();
    // Watches are long-lived: their duration is not request latency.
    if (l.verb !== "watch") c.latency.observe(seconds);
  }

  async text(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
