/** @module ServiceAccount admission with the serviceaccount and root-CA controllers, on an in-memory kernel. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import { createKernel, type Kernel } from "../../../core/kernel.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { createRootCaPublisherPlugin, readCa } from "../../controllers/root-ca-cert-publisher/index.ts";
import { createServiceAccountPlugin } from "../../controllers/serviceaccount/index.ts";
import { CONFIG_MAPS, NAMESPACES, PODS, type PodSpec, SERVICE_ACCOUNTS } from "../common.ts";
import { createServiceAccountAdmissionPlugin, mountToken, TOKEN_MOUNT_PATH } from "./index.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";
let kernel: Kernel;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "skiff-sa-"));
  writeFileSync(join(dir, "ca.crt"), CA);
  kernel = await createKernel({
    memory: true,
    plugins: {
      available: [createServiceAccountPlugin(), createRootCaPublisherPlugin(), createServiceAccountAdmissionPlugin()] as Plugin<never>[],
      preset: "server",
      settings: { "root-ca-cert-publisher": { config: { caFile: join(dir, "ca.crt") } } },
    },
  });
});
afterAll(async () => {
  await kernel.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pod = (name: string, ns: string, spec: Partial<PodSpec> = {}): KubeObject & { spec: PodSpec } => ({
  metadata: { name, namespace: ns },
  spec: { containers: [{ name: "c", image: "busybox" }], ...spec },
});

describe("controllers", () => {
  test("a new namespace gets the default ServiceAccount and the kube-root-ca.crt ConfigMap, and they come back when deleted", async () => {
    await kernel.client.create(NAMESPACES, { metadata: { name: "team-a" } });
    await until("default SA", () => kernel.client.get(SERVICE_ACCOUNTS, "default", { namespace: "team-a" }));
    const cm = await until("root CA", () => kernel.client.get<KubeObject & { data?: Record<string, string> }>(CONFIG_MAPS, "kube-root-ca.crt", { namespace: "team-a" }));
    expect(cm.data).toEqual({ "ca.crt": CA });
    expect(cm.metadata.annotations?.["kubernetes.io/description"]).toContain("Contains a CA bundle");
    const uid = (await kernel.client.get(SERVICE_ACCOUNTS, "default", { namespace: "team-a" })).metadata.uid;
    await kernel.client.delete(SERVICE_ACCOUNTS, "default", { namespace: "team-a" });
    await until("the SA recreated", async () => ((await kernel.client.get(SERVICE_ACCOUNTS, "default", { namespace: "team-a" })).metadata.uid !== uid ? true : undefined));
    await kernel.client.patch(CONFIG_MAPS, "kube-root-ca.crt", "merge", { data: { "ca.crt": "tampered" } }, { namespace: "team-a" });
    await until("the CA put back", async () => ((await kernel.client.get<KubeObject & { data?: Record<string, string> }>(CONFIG_MAPS, "kube-root-ca.crt", { namespace: "team-a" })).data?.["ca.crt"] === CA ? true : undefined));
  });
});

describe("admission", () => {
  test("a pod gets the default ServiceAccount and the projected token volume in every container", async () => {
    await kernel.client.create(NAMESPACES, { metadata: { name: "team-b" } });
    const p = await kernel.client.create<KubeObject & { spec: PodSpec }>(PODS, pod("p", "team-b", { initContainers: [{ name: "init", image: "busybox" }] }));
    expect(p.spec.serviceAccountName).toBe("default");
    expect(p.spec.serviceAccount).toBe("default");
    const vol = p.spec.volumes!.find((v) => v.name.startsWith("kube-api-access-"))!;
    expect(vol.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(vol.projected).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ],
    });
    for (const c of [...p.spec.containers!, ...p.spec.initContainers!]) {
      expect(c.volumeMounts).toEqual([{ name: vol.name, readOnly: true, mountPath: TOKEN_MOUNT_PATH }]);
    }
  });

  test("a pod naming a ServiceAccount that does not exist is refused with upstream's message", async () => {
    try {
      await kernel.client.create(PODS, pod("q", "team-b", { serviceAccountName: "robot" }));
      throw new Error("admitted");
    } catch (e) {
      if (!isApiError(e)) throw e;
      expect(e.code).toBe(403);
      expect(e.message).toBe('pods "q" is forbidden: error looking up service account team-b/robot: serviceaccount "robot" not found');
    }
    await kernel.client.create(SERVICE_ACCOUNTS, { metadata: { name: "robot", namespace: "team-b" }, automountServiceAccountToken: false });
    const p = await kernel.client.create<KubeObject & { spec: PodSpec }>(PODS, pod("q", "team-b", { serviceAccountName: "robot" }));
    expect(p.spec.serviceAccountName).toBe("robot");
    // The ServiceAccount says no token …
    expect(p.spec.volumes ?? []).toEqual([]);
    // … unless the pod asks for one.
    const r = await kernel.client.create<KubeObject & { spec: PodSpec }>(PODS, pod("r", "team-b", { serviceAccountName: "robot", automountServiceAccountToken: true }));
    expect(r.spec.volumes?.[0]?.name).toMatch(/^kube-api-access-/);
  });

  test("automountServiceAccountToken: false on the pod means no token volume", async () => {
    const p = await kernel.client.create<KubeObject & { spec: PodSpec }>(PODS, pod("s", "team-b", { automountServiceAccountToken: false }));
    expect(p.spec.serviceAccountName).toBe("default");
    expect(p.spec.volumes ?? []).toEqual([]);
    expect(p.spec.containers![0]!.volumeMounts ?? []).toEqual([]);
  });

  test("a pod created right after its namespace waits briefly for the default ServiceAccount", async () => {
    await kernel.client.create(NAMESPACES, { metadata: { name: "team-c" } });
    const p = await kernel.client.create<KubeObject & { spec: PodSpec }>(PODS, pod("fast", "team-c"));
    expect(p.spec.serviceAccountName).toBe("default");
  });

  test("updates are not touched", async () => {
    const p = await kernel.client.patch<KubeObject & { spec: PodSpec }>(PODS, "s", "merge", { metadata: { labels: { x: "y" } } }, { namespace: "team-b" });
    expect(p.spec.volumes ?? []).toEqual([]);
  });
});

test("mountToken keeps an existing mount at the token path and an existing token volume", () => {
  const spec: PodSpec = {
    containers: [
      { name: "a", volumeMounts: [{ name: "mine", mountPath: TOKEN_MOUNT_PATH }] },
      { name: "b" },
    ],
    volumes: [{ name: "kube-api-access-abcde", projected: {} }],
  };
  mountToken(spec);
  expect(spec.containers![0]!.volumeMounts).toEqual([{ name: "mine", mountPath: TOKEN_MOUNT_PATH }]);
  expect(spec.containers![1]!.volumeMounts).toEqual([{ name: "kube-api-access-abcde", readOnly: true, mountPath: TOKEN_MOUNT_PATH }]);
  expect(spec.volumes).toEqual([{ name: "kube-api-access-abcde", projected: {} }]);
  const none: PodSpec = { containers: [{ name: "a", volumeMounts: [{ name: "mine", mountPath: TOKEN_MOUNT_PATH }] }] };
  mountToken(none);
  expect(none.volumes).toBeUndefined();
});

test("without a CA file (no TLS) the root CA is published empty", () => {
  expect(readCa(undefined)).toBe("");
  expect(readCa(join(tmpdir(), "no-such-dir-skiff", "ca.crt"))).toBe("");
});
