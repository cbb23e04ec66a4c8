import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import { createKernel, type Kernel } from "../kernel.ts";

const SVC = { group: "", version: "v1", resource: "services" };
type Svc = KubeObject & { spec: { clusterIP: string; clusterIPs: string[]; ports: { port: number; nodePort?: number }[] } };

let kernel: Kernel | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await kernel?.stop();
  kernel = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (isApiError(e)) return `${e.code} ${e.message}`;
    throw e;
  }
}

const svc = (name: string, spec: Record<string, unknown>) => ({ metadata: { name, namespace: "default" }, spec: { ports: [{ port: 80 }], ...spec } }) as unknown as Svc;

test("Services get ClusterIPs and NodePorts through the API; the kubernetes Service holds the first address", async () => {
  kernel = await createKernel({ memory: true, services: { cidr: "10.43.0.0/16" } });
  const c = kernel.client;
  const k8s = await c.get<Svc>(SVC, "kubernetes", { namespace: "default" });
  expect(k8s.spec.clusterIP).toBe("10.43.0.1");
  const a = await c.create<Svc>(SVC, svc("a", {}));
  expect(a.spec.clusterIP).toMatch(/^10\.43\.\d+\.\d+$/);
  expect(a.spec.clusterIPs).toEqual([a.spec.clusterIP]);
  const np = await c.create<Svc>(SVC, svc("np", { type: "NodePort" }));
  expect(np.spec.ports[0]!.nodePort).toBeGreaterThanOrEqual(30000);
  expect(await reason(c.create(SVC, svc("dup", { clusterIP: a.spec.clusterIP })))).toBe(
    `422 Service "dup" is invalid: spec.clusterIPs[0]: Invalid value: "${a.spec.clusterIP}": failed to allocate IP ${a.spec.clusterIP}: provided IP is already allocated`,
  );
  expect(await reason(c.create(SVC, svc("dupport", { type: "NodePort", ports: [{ port: 80, nodePort: np.spec.ports[0]!.nodePort }] })))).toContain(
    "provided port is already allocated",
  );
  // A dry run allocates nothing.
  const dry = await c.create<Svc>(SVC, svc("dry", { clusterIP: "10.43.0.99" }), { dryRun: true });
  expect(dry.spec.clusterIP).toBe("10.43.0.99");
  await c.create(SVC, svc("real", { clusterIP: "10.43.0.99" }));
  // Deleting releases: the IP can be requested again at once.
  await c.delete(SVC, "a", { namespace: "default" });
  await c.create(SVC, svc("again", { clusterIP: a.spec.clusterIP }));
  // Changing a NodePort Service to ClusterIP gives its port back.
  const port = np.spec.ports[0]!.nodePort!;
  const cur = await c.get<Svc>(SVC, "np", { namespace: "default" });
  const { externalTrafficPolicy: _e, ...rest } = cur.spec as Record<string, unknown>;
  await c.update(SVC, { ...cur, spec: { ...rest, type: "ClusterIP", ports: [{ port: 80 }] } });
  await c.create(SVC, svc("takes-port", { type: "NodePort", ports: [{ port: 80, nodePort: port }] }));
  // A failed create (invalid after allocation would apply) leaks nothing: the same IP is free afterwards.
  expect(await reason(c.create(SVC, svc("bad_name", { clusterIP: "10.43.0.77" })))).toMatch(/^422 /);
  await c.create(SVC, svc("good", { clusterIP: "10.43.0.77" }));
});

test("allocations survive a restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "skiff-ipam-"));
  dirs.push(dir);
  kernel = await createKernel({ dataDir: dir });
  const a = await kernel.client.create<Svc>(SVC, svc("a", { type: "NodePort" }));
  await kernel.stop();
  kernel = await createKernel({ dataDir: dir });
  expect(await reason(kernel.client.create(SVC, svc("b", { clusterIP: a.spec.clusterIP })))).toContain("provided IP is already allocated");
  expect(await reason(kernel.client.create(SVC, svc("c", { type: "NodePort", ports: [{ port: 1, nodePort: a.spec.ports[0]!.nodePort }] })))).toContain(
    "provided port is already allocated",
  );
  // The kubernetes Service is not created twice.
  const list = await kernel.client.list(SVC, { namespace: "default", fieldSelector: "metadata.name=kubernetes" });
  expect(list.items.length).toBe(1);
});
