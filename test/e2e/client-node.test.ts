/**
 * @kubernetes/client-node 2.x (run under Bun, which provides what its undici
 * dependency needs; on Node it requires Node ≥ 22) against a kernel the test
 * starts: CRUD with typed errors, and an informer that survives a forced
 * compaction (410 → relist) without losing or duplicating an object.
 *
 * The kernel listens over HTTPS with authentication (the default); the
 * client reads the kernel-written kubeconfig (CA and admin client
 * certificate). Under Bun, client-node's `undici` is Bun's shim, whose fetch
 * ignores the `dispatcher` that carries those TLS settings (on Node they
 * apply as they are): test/setup.ts routes the shim's fetch through Bun's
 * `tls` option with the same kubeconfig's credentials.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type * as K8s from "@kubernetes/client-node";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKernel, type Kernel } from "../../core/kernel.ts";
import { kubeconfigTls } from "./harness.ts";

setDefaultTimeout(60_000);

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Read by the undici shim's TLS hook in test/setup.ts (see there). */
const hook = globalThis as { skiffUndiciTls?: { ca: string; cert: string; key: string } };
const k8s: typeof K8s = await import("@kubernetes/client-node");

describe("@kubernetes/client-node", () => {
  let kernel: Kernel;
  let dir: string;
  let kc: K8s.KubeConfig;
  let core: K8s.CoreV1Api;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "skiff-client-node-"));
    kernel = await createKernel({ dataDir: dir, listen: { host: "127.0.0.1", port: 0 } });
    hook.skiffUndiciTls = kubeconfigTls(kernel.kubeconfigPath!);
    kc = new k8s.KubeConfig();
    kc.loadFromFile(kernel.kubeconfigPath!);
    core = kc.makeApiClient(k8s.CoreV1Api);
  });
  afterAll(async () => {
    hook.skiffUndiciTls = undefined;
    await kernel?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("CRUD with Kubernetes errors", async () => {
    const created = await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "a", labels: { x: "1" } }, data: { k: "v" } } });
    expect(created.metadata?.uid).toBeString();
    const got = await core.readNamespacedConfigMap({ namespace: "default", name: "a" });
    expect(got.data).toEqual({ k: "v" });
    got.data = { k: "w" };
    const replaced = await core.replaceNamespacedConfigMap({ namespace: "default", name: "a", body: got });
    expect(replaced.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion);
    const stale = core.replaceNamespacedConfigMap({ namespace: "default", name: "a", body: got });
    await expect(stale).rejects.toMatchObject({ code: 409 });
    const patched = await core.patchNamespacedConfigMap(
      { namespace: "default", name: "a", body: [{ op: "replace", path: "/data/k", value: "p" }] },
    );
    expect(patched.data).toEqual({ k: "p" });
    const list = await core.listNamespacedConfigMap({ namespace: "default", labelSelector: "x=1" });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(["a"]);
    await core.deleteNamespacedConfigMap({ namespace: "default", name: "a" });
    const missing = await core.readNamespacedConfigMap({ namespace: "default", name: "a" }).catch((e: { code: number; body: string }) => e);
    expect((missing as { code: number }).code).toBe(404);
    expect(JSON.parse((missing as { body: string }).body)).toMatchObject({ kind: "Status", reason: "NotFound", code: 404 });
  });

  test("an informer survives a forced compaction without losing or duplicating objects", async () => {
    let lists = 0;
    const listFn = () => {
      lists++;
      return core.listNamespacedConfigMap({ namespace: "inf" });
    };
    await core.createNamespace({ body: { metadata: { name: "inf" } } });
    for (let i = 0; i < 20; i++) await core.createNamespacedConfigMap({ namespace: "inf", body: { metadata: { name: `cm${i}` }, data: { v: "0" } } });
    const informer = k8s.makeInformer(kc, "/api/v1/namespaces/inf/configmaps", listFn);
    const adds = new Map<string, number>();
    informer.on("add", (o) => adds.set(o.metadata!.name!, (adds.get(o.metadata!.name!) ?? 0) + 1));
    informer.on("error", () => {});
    await informer.start();
    await until("initial sync", () => informer.list().length === 20);

    // Move history past the informer's resourceVersion with writes it does not
    // watch, compact, and cut every watch: its reconnect must get 410 and relist.
    for (let i = 0; i < 30; i++) await core.createNamespacedSecret({ namespace: "default", body: { metadata: { name: `s${i}` } } });
    await kernel.store.compact(await kernel.store.currentRevision());
    const listsBefore = lists;
    kernel.store.closeWatchers();
    await until("relist after 410", () => lists > listsBefore);

    // Changes after the relist arrive through the new watch.
    await core.deleteNamespacedConfigMap({ namespace: "inf", name: "cm0" });
    await core.createNamespacedConfigMap({ namespace: "inf", body: { metadata: { name: "late" } } });
    await core.patchNamespacedConfigMap({ namespace: "inf", name: "cm1", body: [{ op: "replace", path: "/data/v", value: "1" }] });
    await until("watch after relist", () => informer.list().some((o) => o.metadata?.name === "late") && !informer.list().some((o) => o.metadata?.name === "cm0"));
    await until("update seen", () => informer.get("cm1", "inf")?.data?.v === "1");

    const server = (await core.listNamespacedConfigMap({ namespace: "inf" })).items.map((i) => i.metadata!.name!).sort();
    const cached = informer.list().map((o) => o.metadata!.name!);
    expect(cached.sort()).toEqual(server);
    expect(new Set(cached).size).toBe(cached.length);
    expect(adds.get("late")).toBe(1);
    await informer.stop();
  });
});
