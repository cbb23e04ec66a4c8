/**
 * @module The pod worker's side of projected ServiceAccount tokens, on a
 * secure in-memory kernel with the fake runtime (made to take mounts): the
 * token file is written before the sandbox, kept while fresh, and rewritten
 * (atomically, a new token from the API) once 80 % of its lifetime has passed
 * — the clock is moved with `setSystemTime`, the pod synced by a label change.
 */
import { afterAll, beforeAll, expect, setSystemTime, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKernel, type Kernel } from "../../core/kernel.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import { FAKE_CAPABILITIES, FakeRuntime } from "../../runtime-adapters/fake/index.ts";
import { nodeAgentPlugin } from "./index.ts";
import { boundPod, phase, podsRef, until } from "./testing.ts";
import { type Pod, serviceAccountsRef } from "./types.ts";

/** The fake runtime, claiming mounts so the agent sets volumes up (it ignores them). */
class MountingFakeRuntime extends FakeRuntime {
  override readonly capabilities = { ...FAKE_CAPABILITIES, mounts: true };
}

function mountingFakePlugin(): Plugin<Record<string, never>> {
  let runtime: MountingFakeRuntime | undefined;
  return {
    manifest: { name: "runtime-fake-mounts", version: "0.1.0", roles: ["agent"], provides: ["runtime", "runtime:fake"], configSchema: { type: "object" } },
    register(container, _config, tokens) {
      runtime = new MountingFakeRuntime();
      container.register(tokens.RuntimeAdapter, { useValue: runtime });
    },
    async stop() {
      await runtime?.close();
    },
  };
}

const root = mkdtempSync(join(tmpdir(), "skiff-token-refresh-"));
let k: Kernel;

beforeAll(async () => {
  k = await createKernel({
    memory: true,
    security: { enabled: true },
    plugins: {
      available: [nodeAgentPlugin(), mountingFakePlugin()] as Plugin<never>[],
      preset: "all-in-one",
      runtime: "fake",
      nodeName: "n1",
      settings: { "node-agent": { config: { rootDir: root, server: { port: 0 }, backoff: { initialSeconds: 0.3, maxSeconds: 1 }, relistSeconds: 0.2 } } },
    },
  });
  await k.client.create(serviceAccountsRef, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "robot", namespace: "default" } });
});

afterAll(async () => {
  setSystemTime();
  await k?.stop();
  rmSync(root, { recursive: true, force: true });
});

const claims = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { iat: number; exp: number; "kubernetes.io": { pod: { name: string; uid: string } } };

test("the token file is written for the pod and rewritten with a new token after 80 % of its lifetime", async () => {
  const created = await k.client.create<Pod>(
    podsRef,
    boundPod("web", "n1", {
      serviceAccountName: "robot",
      volumes: [{ name: "kube-api-access-t", projected: { defaultMode: 0o644, sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 600 } }] } }],
      containers: [{ name: "c", image: "busybox:1.36", volumeMounts: [{ name: "kube-api-access-t", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }] }],
    }),
  );
  const uid = created.metadata.uid!;
  await until<Pod>(k.client, podsRef, "web", "default", (p) => phase(p) === "Running", 8000);
  const file = join(root, "pods", uid, "volumes", "projected", "kube-api-access-t", "token");
  const first = readFileSync(file, "utf8");
  expect(claims(first)["kubernetes.io"].pod).toEqual({ name: "web", uid });
  expect(claims(first).exp - claims(first).iat).toBe(600);

  // A sync before the refresh time keeps the token.
  await k.client.patch(podsRef, "web", "merge", { metadata: { labels: { sync: "1" } } }, { namespace: "default" });
  await until<Pod>(k.client, podsRef, "web", "default", (p) => p?.metadata.labels?.sync === "1", 4000);
  await new Promise((r) => setTimeout(r, 300));
  expect(readFileSync(file, "utf8")).toBe(first);

  // 80 % of 600 s (and the 10 s of jitter) later, the next sync fetches a new token and swaps it in.
  setSystemTime(new Date(Date.now() + 491_000));
  await k.client.patch(podsRef, "web", "merge", { metadata: { labels: { sync: "2" } } }, { namespace: "default" });
  const deadline = Date.now() + 8000;
  while (readFileSync(file, "utf8") === first) {
    if (Date.now() > deadline) throw new Error("the token was not refreshed");
    await new Promise((r) => setTimeout(r, 50));
  }
  const second = readFileSync(file, "utf8");
  expect(claims(second).iat).toBeGreaterThanOrEqual(claims(first).iat + 490);
  expect(claims(second)["kubernetes.io"].pod).toEqual({ name: "web", uid });
  expect(existsSync(join(root, "pods", uid, "volumes", "projected", "kube-api-access-t", "..data"))).toBe(true);
});
