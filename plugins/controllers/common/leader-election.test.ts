import { afterAll, beforeAll, expect, test } from "bun:test";
import { errors } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Client } from "../../../core/client/types.ts";
import { logger } from "../../../core/log.ts";
import { LeaderElector } from "./leader-election.ts";
import { LEASES } from "./refs.ts";
import { startCluster, type TestCluster, until } from "./testing.ts";

let c: TestCluster;
beforeAll(async () => {
  c = await startCluster([]);
});
afterAll(() => c.stop());

const FAST = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 50 };
const log = logger("leader-election-test");

/** A client whose writes to Leases can be made to fail (a partitioned leader). */
function partitionable(client: Client): { client: Client; cut(): void } {
  let cut = false;
  const wrapped = new Proxy(client, {
    get(target, prop) {
      const v = Reflect.get(target, prop) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => (cut ? Promise.reject(errors.serviceUnavailable("partitioned")) : (v as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { client: wrapped, cut: () => (cut = true) };
}

function run(elector: LeaderElector) {
  const stop = new AbortController();
  const terms: { started: number; ended?: number }[] = [];
  const done = elector.run(stop.signal, async (term) => {
    const t = { started: Date.now() } as { started: number; ended?: number };
    terms.push(t);
    await new Promise<void>((r) => term.addEventListener("abort", () => r(), { once: true }));
    t.ended = Date.now();
  });
  return { stop: () => (stop.abort(), done), terms };
}

test("one leader at a time; a released Lease is taken over at once", async () => {
  const a = new LeaderElector(c.client, { name: "le-release", identity: "a", ...FAST }, log);
  const b = new LeaderElector(c.client, { name: "le-release", identity: "b", ...FAST }, log);
  const ra = run(a);
  await until("a leads", () => a.leading);
  const rb = run(b);
  await new Promise((r) => setTimeout(r, 800)); // longer than the lease: a keeps renewing it
  expect(b.leading).toBe(false);
  const lease = await c.client.get<KubeObject & { spec: Record<string, unknown> }>(LEASES, "le-release", { namespace: "kube-system" });
  expect(lease.spec).toMatchObject({ holderIdentity: "a", leaseDurationSeconds: 1, leaseTransitions: 0 });
  expect(String(lease.spec.renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  const releasedAt = Date.now();
  await ra.stop();
  await until("b leads", () => b.leading);
  expect(Date.now() - releasedAt).toBeLessThan(400);
  expect(ra.terms[0]!.ended).toBeLessThanOrEqual(rb.terms[0]!.started);
  const after = await c.client.get<KubeObject & { spec: Record<string, unknown> }>(LEASES, "le-release", { namespace: "kube-system" });
  expect(after.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
  await rb.stop();
});

test("a leader that cannot renew stops leading before anyone else may take over", async () => {
  const p = partitionable(c.client);
  const a = new LeaderElector(p.client, { name: "le-expire", identity: "a", ...FAST }, log);
  const b = new LeaderElector(c.client, { name: "le-expire", identity: "b", ...FAST }, log);
  const ra = run(a);
  await until("a leads", () => a.leading);
  const rb = run(b);
  p.cut();
  await until("b leads", () => b.leading, 3000);
  // a's term ended (renew deadline) before b's began (lease expiry).
  expect(ra.terms[0]!.ended).toBeDefined();
  expect(ra.terms[0]!.ended!).toBeLessThanOrEqual(rb.terms[0]!.started);
  await rb.stop();
  await ra.stop();
});
