/** @module Tests for ApiMetrics: the same exposition prom-client's own Counter and Histogram give. */
import { describe, expect, test } from "bun:test";
import { Counter, Histogram, Registry } from "prom-client";
import { ApiMetrics } from "./metrics.ts";

type Labels = { verb: string; group: string; version: string; resource: string; subresource: string };

/** The request metrics as they were defined with prom-client's classes. */
function reference() {
  const registry = new Registry();
  const requests = new Counter({
    name: "apiserver_request_total",
    help: "Counter of apiserver requests broken out for each verb, group, version, resource and HTTP response code.",
    labelNames: ["verb", "group", "version", "resource", "subresource", "code"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "apiserver_request_duration_seconds",
    help: "Response latency distribution in seconds for each verb, group, version and resource.",
    labelNames: ["verb", "group", "version", "resource", "subresource"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  return {
    registry,
    observe(l: Labels, code: number, seconds: number) {
      requests.labels(l.verb, l.group, l.version, l.resource, l.subresource, String(code)).inc();
      if (l.verb !== "watch") latency.labels(l.verb, l.group, l.version, l.resource, l.subresource).observe(seconds);
    },
  };
}

describe("ApiMetrics", () => {
  test("text and JSON exposition equal prom-client's for the same observations", async () => {
    const ours = new ApiMetrics();
    const theirs = reference();
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const verbs = ["get", "list", "create", "watch", "update", "patch", "delete"];
    for (let i = 0; i < 5000; i++) {
      const l: Labels = {
        verb: verbs[Math.floor(rnd() * verbs.length)]!,
        group: rnd() < 0.5 ? "" : "apps",
        version: "v1",
        resource: rnd() < 0.5 ? "pods" : 'odd"name\\',
        subresource: rnd() < 0.8 ? "" : "status",
      };
      const code = [200, 201, 404, 409][Math.floor(rnd() * 4)]!;
      const seconds = [0, 0.0005, 0.001, 60, 61, 1e-9, rnd() * 2][Math.floor(rnd() * 7)]!;
      ours.observe(l, code, seconds);
      theirs.observe(l, code, seconds);
    }
    expect((await ours.text()).body).toBe(await theirs.registry.metrics());
    expect((await ours.text()).contentType).toBe(theirs.registry.contentType);
    expect(JSON.stringify(await (await ours.registry()).getMetricsAsJSON())).toBe(JSON.stringify(await theirs.registry.getMetricsAsJSON()));
  });
});
