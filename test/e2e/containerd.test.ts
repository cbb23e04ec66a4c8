/**
 * `skiff server --runtime containerd` end to end, on Bun, Node and Deno: a
 * private containerd (runtime-adapters/containerd/scripts/start-containerd.sh)
 * whose socket is set in skiff.yaml; an image built offline by
 * scripts/mkimage.sh is loaded with `skiff images import`; a pod from it runs
 * busybox httpd, its output shows in `kubectl logs` (on Node and Deno, whose
 * agent endpoint is off, in the CRI log file containerd writes) and its pod
 * IP serves HTTP to the host; on Bun `kubectl exec` (stdin, exit code) and
 * `kubectl port-forward` reach it; a pod with imagePullSecrets pulls from a
 * loopback docker-registry with htpasswd auth and runs with its
 * securityContext (and one without the secret cannot pull); restarting the
 * server re-adopts the running container (same id, start time and restart
 * count); deleting the pods removes their sandboxes and containers from
 * containerd.
 *
 * In CI a missing containerd, docker-registry or kubectl fails the suite;
 * elsewhere it is skipped with one loud line.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCriRecord } from "../../core/runtime/cri-log.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { ContainerdRuntime } from "../../runtime-adapters/containerd/index.ts";
import {
  containerdMissing,
  mkimage,
  pushArchive,
  registryMissing,
  startContainerd,
  startRegistry,
  type TestContainerd,
  type TestRegistry,
} from "../../runtime-adapters/containerd/testing.ts";
import { haveKubectl, ROOT, type Runtime, skiff, startServer, tempDir, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(90_000);

const MAIN = join(ROOT, "core", "cli", "main.ts");
const missing = containerdMissing() ?? registryMissing() ?? (haveKubectl() ? undefined : "kubectl");
const hasScheduler = builtinPlugins().some((p) => p.manifest.name === "scheduler" || (p.manifest.provides ?? []).includes("scheduler"));
const json = (s: string): any => JSON.parse(s);

/** The `skiff` CLI on the given JavaScript runtime (never throws on a non-zero exit). */
function skiffOn(runtime: Runtime, args: string[]): { out: string; err: string; code: number } {
  if (runtime === "bun") return skiff(args);
  const cmd = runtime === "node" ? [process.env.SKIFF_NODE ?? "node", "--import", "tsx", MAIN] : [join(ROOT, "node_modules", ".bin", "deno"), "run", "--allow-all", MAIN];
  const r = spawnSync(cmd[0]!, [...cmd.slice(1), ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...process.env, SKIFF_LOG_LEVEL: "warn" } });
  return { out: r.stdout ?? "", err: r.stderr ?? String(r.error ?? ""), code: r.status ?? -1 };
}

for (const runtime of ["bun", "node", "deno"] as Runtime[]) describeWith(`skiff server --runtime containerd on ${runtime} (e2e)`, missing === undefined, missing ?? "", () => {
  let ctrd: TestContainerd;
  let registry: TestRegistry;
  let dir: string;
  let s: TestServer | undefined;
  let rt: ContainerdRuntime;
  let binder: ReturnType<typeof setInterval> | undefined;
  let webArchive = "";
  let privateImage = "";
  const NODE = `containerd-e2e-${runtime}-${Math.random().toString(16).slice(2, 6)}`;

  function bindPending(): void {
    if (!s) return;
    const r = s.kubectl(["get", "pods", "-o", "json"]);
    if (r.code !== 0) return;
    for (const p of json(r.out).items) {
      if (p.spec.nodeName || p.metadata.deletionTimestamp) continue;
      const body = JSON.stringify({ apiVersion: "v1", kind: "Binding", metadata: { name: p.metadata.name }, target: { apiVersion: "v1", kind: "Node", name: NODE } });
      void s.fetch(`/api/v1/namespaces/default/pods/${p.metadata.name}/binding`, { method: "POST", headers: { "content-type": "application/json" }, body }).catch(() => undefined);
    }
  }

  async function start(): Promise<TestServer> {
    const server = await startServer(runtime, ["--runtime", "containerd"], { dir });
    s = server;
    await until("the node to be Ready", () => {
      const r = server.kubectl(["get", "node", NODE, "-o", "json"]);
      return r.code === 0 && json(r.out).status?.conditions?.some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True");
    }, 30_000);
    return server;
  }

  const pod = (name: string) => json(s!.k(["get", "pod", name, "-o", "json"]));

  /**
   * A pod's output: `kubectl logs` on Bun; on Node and Deno the agent
   * endpoint that serves logs is off (it needs Bun), so the CRI log file
   * containerd writes is read instead.
   */
  async function logsOf(name: string): Promise<string | undefined> {
    if (runtime === "bun") {
      const r = s!.kubectl(["logs", name]);
      return r.code === 0 ? r.out : undefined;
    }
    const id = pod(name).status?.containerStatuses?.[0]?.containerID?.split("://")[1];
    const path = id ? (await rt.containerStatus(id))?.logPath : undefined;
    if (!path || !existsSync(path)) return undefined;
    return readFileSync(path, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => `${parseCriRecord(l)!.text}\n`)
      .join("");
  }

  beforeAll(async () => {
    ctrd = startContainerd("skiff-e2e-ctrd-");
    dir = tempDir("skiff-e2e-containerd-");
    registry = await startRegistry({ users: { alice: "e2e-secret" } });
    ctrd.allowInsecure(registry.host);
    webArchive = join(dir, "web.tar");
    mkimage(webArchive, "skiff.local/web:1", ["/bin/sh", "-c", "trap 'exit 0' TERM; echo serving on 8080; httpd -f -vv -p 8080 -h /www & wait $!"]);
    const privateArchive = join(dir, "private.tar");
    privateImage = `${registry.host}/team/private:1`;
    mkimage(privateArchive, privateImage, ["/bin/sh", "-c", "trap 'exit 0' TERM; echo private image runs as $(id -u):$(id -g); touch /probe 2>/dev/null || echo read-only root; sleep 3600 & wait $!"]);
    await pushArchive(privateArchive, registry.host, "team/private", "1", { username: "alice", password: "e2e-secret" });
    rt = new ContainerdRuntime({ socket: ctrd.socket });
    mkdirSync(join(dir, "data"), { recursive: true });
    writeFileSync(
      join(dir, "data", "skiff.yaml"),
      JSON.stringify({
        nodeName: NODE,
        plugins: {
          "runtime-containerd": { config: { socket: ctrd.socket, cgroupParent: ctrd.cgroupParent } },
          // Pods outlive a server stop: the restart test re-adopts them.
          "node-agent": { config: { server: { port: 0 }, stopPodsOnExit: "never" } },
        },
      }),
    );
    await start();
    if (!hasScheduler) binder = setInterval(() => bindPending(), 300);
  }, 90_000);

  afterAll(async () => {
    clearInterval(binder);
    try {
      await s?.stop();
      await rt?.close();
      await registry?.stop();
    } finally {
      await ctrd?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("the node reports the containerd runtime", () => {
    const n = json(s!.k(["get", "node", NODE, "-o", "json"]));
    expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/\d+\.\d+/);
  });

  test("`skiff images import` loads the archive into containerd, with progress", async () => {
    const r = skiffOn(runtime, ["images", "import", webArchive, "--runtime", "containerd", "--socket", ctrd.socket, "--data-dir", join(dir, "cli")]);
    expect(r.err).toContain("importing web.tar: 100%");
    expect(r.code).toBe(0);
    expect(r.out).toBe("skiff.local/web:1\n");
    expect((await rt.imageStatus("skiff.local/web:1"))?.ref).toMatch(/^sha256:/);
  });

  let podIP = "";
  let containerID = "";
  let startedAt = "";

  test("a pod from the imported image runs: logs, pod IP serving HTTP", async () => {
    const t0 = Date.now();
    s!.k(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web", labels: { app: "web" } },
        spec: { terminationGracePeriodSeconds: 5, containers: [{ name: "web", image: "skiff.local/web:1", imagePullPolicy: "IfNotPresent", ports: [{ containerPort: 8080 }] }] },
      }),
    });
    const p = await until("the pod to run with an IP", () => {
      const x = pod("web");
      return x.status?.phase === "Running" && x.status.podIP ? x : undefined;
    }, 30_000, 50);
    process.stderr.write(`containerd e2e: pod Running with an IP ${Date.now() - t0} ms after kubectl apply\n`);
    podIP = p.status.podIP;
    expect(podIP.startsWith(`${ctrd.subnet.split(".").slice(0, 3).join(".")}.`)).toBe(true);
    const cs = p.status.containerStatuses[0];
    expect(cs).toMatchObject({ name: "web", ready: true, restartCount: 0, image: "skiff.local/web:1" });
    expect(cs.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(cs.imageID).toMatch(/^sha256:[0-9a-f]{64}$/);
    containerID = cs.containerID.slice("containerd://".length);
    startedAt = cs.state.running.startedAt;
    const body = await until("HTTP from the pod IP", async () => {
      const r = await fetch(`http://${podIP}:8080/`).catch(() => undefined);
      return r?.ok ? r.text() : undefined;
    }, 10_000);
    expect(body).toBe("hello from skiff\n");
    const logs = await until("the output in the pod's logs", async () => {
      const out = await logsOf("web");
      return out?.includes("serving on 8080") ? out : undefined;
    }, 10_000);
    expect(logs.split("\n").filter((l) => l === "serving on 8080")).toHaveLength(1);
    const events = json(s!.k(["get", "events", "--field-selector", "involvedObject.name=web", "-o", "json"])).items.map((e: { reason: string; message: string }) => `${e.reason}: ${e.message}`);
    expect(events).toContain('Pulled: Container image "skiff.local/web:1" already present on machine');
    // containerd holds one sandbox and one container for it.
    const sandboxes = (await rt.listPodSandboxes()).filter((x) => x.config.name === "web");
    expect(sandboxes.map((x) => x.state)).toEqual(["ready"]);
    expect((await rt.listContainers({ podSandboxId: sandboxes[0]!.id })).map((c) => c.id)).toEqual([containerID]);
  });

  if (runtime === "bun") {
    test("kubectl exec runs in the pod's container (ExecSync; stdin through ctr; exit code)", () => {
      expect(s!.k(["exec", "web", "--", "cat", "/www/index.html"])).toBe("hello from skiff\n");
      expect(s!.k(["exec", "-i", "web", "--", "tr", "a-z", "A-Z"], { input: "shout\n" })).toBe("SHOUT\n");
      expect(s!.kubectl(["exec", "web", "--", "sh", "-c", "exit 5"]).code).toBe(5);
    });

    test("kubectl port-forward reaches the pod's port", async () => {
      const pf = spawn("kubectl", ["port-forward", "pod/web", ":8080"], {
        env: { PATH: process.env.PATH ?? "", HOME: join(s!.dir, "home"), KUBECONFIG: s!.kubeconfig },
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        let out = "";
        pf.stdout!.on("data", (b: Buffer) => (out += b.toString()));
        pf.stderr!.on("data", (b: Buffer) => (out += b.toString()));
        const port = await until("kubectl port-forward to listen", () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1], 15_000, 50);
        expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("hello from skiff\n");
      } finally {
        pf.kill("SIGTERM");
      }
    });
  }

  test("imagePullSecrets: the pod pulls from the authenticated registry; without the secret it cannot", async () => {
    s!.k(["create", "secret", "docker-registry", "regcred", `--docker-server=${registry.host}`, "--docker-username=alice", "--docker-password=e2e-secret"]);
    const manifest = (name: string, secrets: boolean) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 2,
          ...(secrets ? { imagePullSecrets: [{ name: "regcred" }] } : {}),
          // The pod's runAsUser with the container's runAsGroup and readOnlyRootFilesystem reach the container.
          securityContext: { runAsUser: 65534 },
          containers: [{ name: "app", image: privateImage, imagePullPolicy: "Always", securityContext: { runAsGroup: 65534, readOnlyRootFilesystem: true } }],
        },
      });
    s!.k(["apply", "-f", "-"], { input: manifest("private", true) });
    s!.k(["apply", "-f", "-"], { input: manifest("no-secret", false) });
    const p = await until("the private pod to run", () => {
      const x = pod("private");
      return x.status?.phase === "Running" ? x : undefined;
    }, 30_000);
    // As with the kubelet on containerd: a pulled image's ID is its repo digest.
    expect(p.status.containerStatuses[0].imageID).toStartWith(`${registry.host}/team/private@sha256:`);
    const logs = await until("the private pod's output", async () => {
      const out = await logsOf("private");
      return out?.includes("read-only root") ? out : undefined;
    }, 10_000);
    expect(logs).toContain("private image runs as 65534:65534\n");
    const reasons = json(s!.k(["get", "events", "--field-selector", "involvedObject.name=private", "-o", "json"])).items.map((e: { reason: string }) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["Pulling", "Pulled", "Created", "Started"]));
    const waiting = await until("the pod without the secret to wait in ErrImagePull", () => {
      const w = pod("no-secret").status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === "ErrImagePull" ? w : undefined;
    }, 30_000);
    expect(waiting.message).toMatch(/401|unauthorized|authoriz/i);
    s!.k(["delete", "pod", "private", "no-secret", "--wait=false"]);
  });

  test("restarting the server re-adopts the running pod without restarting it", async () => {
    expect(containerID).not.toBe("");
    const before = await rt.containerStatus(containerID);
    await s!.stop();
    s = undefined;
    // The pod keeps running (and serving) while no server runs.
    expect((await rt.containerStatus(containerID))?.state).toBe("running");
    expect(await (await fetch(`http://${podIP}:8080/`)).text()).toBe("hello from skiff\n");
    await start();
    await fetch(`http://${podIP}:8080/after-restart`).catch(() => undefined);
    const p = await until("the re-adopted pod's status", () => {
      const x = pod("web");
      const cs = x.status?.containerStatuses?.[0];
      return x.status?.phase === "Running" && cs?.ready ? x : undefined;
    }, 30_000);
    const cs = p.status.containerStatuses[0];
    expect(cs.containerID).toBe(`containerd://${containerID}`);
    expect(cs.restartCount).toBe(0);
    expect(cs.state.running.startedAt).toBe(startedAt);
    expect(p.status.podIP).toBe(podIP);
    const after = await rt.containerStatus(containerID);
    expect(after?.startedAt).toBe(before!.startedAt!);
    expect(after?.info?.pid).toBe(before!.info!.pid!);
    const logs = await until("the request after the restart in the pod's logs", async () => {
      const out = await logsOf("web");
      return out?.includes("/after-restart") ? out : undefined;
    }, 15_000);
    expect(logs.split("\n").filter((l) => l === "serving on 8080")).toHaveLength(1);
  });

  test("deleting the pods removes their sandboxes and containers from containerd", async () => {
    s!.k(["delete", "pod", "web", "--wait=false"]);
    await until("the pods to be gone", () => s!.kubectl(["get", "pod", "web"]).code !== 0 && s!.kubectl(["get", "pod", "private"]).code !== 0, 30_000);
    const left = await until("no sandboxes left in containerd", async () => {
      const l = await rt.listPodSandboxes();
      return l.filter((x) => x.config.name !== "no-secret").length === 0 ? l : undefined;
    }, 15_000);
    expect(left.filter((x) => x.config.name !== "no-secret")).toEqual([]);
    expect((await rt.listContainers()).filter((c) => c.labels["io.kubernetes.pod.name"] !== "no-secret")).toEqual([]);
  });
});
