/**
 * `skiff server --runtime docker` end to end, on Bun, Node and Deno: a private dockerd
 * (runtime-adapters/docker/scripts/start-dockerd.sh) with the adapter's
 * socket, bridge network, subnet and offline pause image set in skiff.yaml;
 * a pod from an image built by scripts/mkimage.sh runs busybox httpd; its
 * output shows in `kubectl logs` (on Node and Deno, whose agent endpoint is
 * off, in the CRI log file); its pod IP serves HTTP to the host; on Bun,
 * `kubectl exec` (stdin, exit code) and `kubectl port-forward` reach it;
 * restarting the server re-adopts the running pod without restarting it
 * (same container, same start time, logs continue without duplicates);
 * deleting the pod removes its Docker containers.
 *
 * The image is loaded through the adapter's `importImage` (no `skiff images
 * import` command exists yet). In CI a missing dockerd or kubectl fails the
 * suite; elsewhere it is skipped with one loud line.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCriRecord } from "../../core/runtime/cri-log.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { DockerRuntime } from "../../runtime-adapters/docker/index.ts";
import { dockerdMissing, mkimage, startDockerd, type TestDockerd } from "../../runtime-adapters/docker/testing.ts";
import { haveKubectl, type Runtime, startServer, tempDir, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(90_000);

const missing = dockerdMissing() ?? (haveKubectl() ? undefined : "kubectl");
const hasScheduler = builtinPlugins().some((p) => p.manifest.name === "scheduler" || (p.manifest.provides ?? []).includes("scheduler"));
const json = (s: string): any => JSON.parse(s);

if (missing) describeWith("skiff server --runtime docker (e2e)", false, missing, () => undefined);
else for (const runtime of ["bun", "node", "deno"] as Runtime[]) describeWith(`skiff server --runtime docker on ${runtime} (e2e)`, true, "", () => {
  let d: TestDockerd;
  let dir: string;
  let s: TestServer | undefined;
  let rt: DockerRuntime;
  let binder: ReturnType<typeof setInterval> | undefined;
  const NODE = `docker-e2e-${Math.random().toString(16).slice(2, 6)}`;

  function bindPending(): void {
    if (!s) return;
    const r = s.kubectl(["get", "pods", "-o", "json"]);
    if (r.code !== 0) return;
    for (const p of json(r.out).items as any[]) {
      if (p.spec.nodeName || p.metadata.deletionTimestamp) continue;
      const body = JSON.stringify({ apiVersion: "v1", kind: "Binding", metadata: { name: p.metadata.name }, target: { apiVersion: "v1", kind: "Node", name: NODE } });
      void s.fetch(`/api/v1/namespaces/default/pods/${p.metadata.name}/binding`, { method: "POST", headers: { "content-type": "application/json" }, body }).catch(() => undefined);
    }
  }

  async function start(): Promise<TestServer> {
    const server = await startServer(runtime, ["--runtime", "docker"], { dir });
    s = server;
    await until("the node to be Ready", () => {
      const r = server.kubectl(["get", "node", NODE, "-o", "json"]);
      return r.code === 0 && json(r.out).status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
    }, 30_000);
    return server;
  }

  /** This instance's Docker containers, straight from the Engine API. */
  async function dockerContainers(): Promise<any[]> {
    return rt.engine.json("GET", "/containers/json", { query: { all: 1, filters: JSON.stringify({ label: [`skiff.dev/docker-instance=${d.instance}`] }) } });
  }

  /**
   * The container's output: `kubectl logs` on Bun; on Node and Deno the agent
   * endpoint that serves logs is off (it needs Bun), so the CRI file the
   * adapter writes (the path in the container's labels) is read instead.
   */
  async function logsOf(id: string): Promise<string | undefined> {
    if (runtime === "bun") {
      const r = s!.kubectl(["logs", "web"]);
      return r.code === 0 ? r.out : undefined;
    }
    const i = await rt.engine.json("GET", `/containers/${id}/json`);
    const path = i.Config.Labels["skiff.dev/log-path"];
    if (!existsSync(path)) return undefined;
    return readFileSync(path, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => `${parseCriRecord(l)!.text}\n`)
      .join("");
  }

  beforeAll(async () => {
    d = startDockerd();
    dir = tempDir("skiff-e2e-docker-");
    const pause = mkimage(join(dir, "pause.tar"), "skiff.local/pause:1", ["/bin/sleep", "2147483647"]);
    const web = mkimage(join(dir, "web.tar"), "skiff.local/web:1", ["/bin/sh", "-c", "trap 'exit 0' TERM; echo serving on 8080; httpd -f -vv -p 8080 -h /www & wait $!"]);
    rt = new DockerRuntime({ socketPath: d.socket, instance: d.instance });
    expect(await rt.importImage(web)).toEqual(["skiff.local/web:1"]);
    mkdirSync(join(dir, "data"), { recursive: true });
    writeFileSync(
      join(dir, "data", "skiff.yaml"),
      JSON.stringify({
        nodeName: NODE,
        plugins: {
          "runtime-docker": {
            config: { socket: d.socket, instance: d.instance, network: d.network, bridge: d.bridge, subnet: d.subnet, pauseImage: "skiff.local/pause:1", pauseImageArchive: pause },
          },
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
    } finally {
      d?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the node reports the docker runtime", () => {
    const n = json(s!.k(["get", "node", NODE, "-o", "json"]));
    expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^docker:\/\/\d+\.\d+/);
  });

  let podIP = "";
  let containerID = "";
  let startedAt = "";

  test("a pod from a loaded image runs: its output is in its logs, its pod IP serves HTTP", async () => {
    const t0 = Date.now();
    s!.k(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web", labels: { app: "web" } },
        spec: { terminationGracePeriodSeconds: 5, containers: [{ name: "web", image: "skiff.local/web:1", imagePullPolicy: "Never", ports: [{ containerPort: 8080 }] }] },
      }),
    });
    const pod = await until("the pod to run with an IP", () => {
      const p = json(s!.k(["get", "pod", "web", "-o", "json"]));
      return p.status?.phase === "Running" && p.status.podIP ? p : undefined;
    }, 30_000, 50);
    const latency = Date.now() - t0;
    process.stderr.write(`docker e2e: pod Running with an IP ${latency} ms after kubectl apply\n`);
    podIP = pod.status.podIP;
    const prefix = d.subnet.split(".").slice(0, 3).join(".");
    expect(podIP.startsWith(`${prefix}.`)).toBe(true);
    const cs = pod.status.containerStatuses[0];
    expect(cs).toMatchObject({ name: "web", ready: true, restartCount: 0 });
    expect(cs.containerID).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    containerID = cs.containerID.slice("docker://".length);
    startedAt = cs.state.running.startedAt;
    const body = await until("HTTP from the pod IP", async () => {
      const r = await fetch(`http://${podIP}:8080/`).catch(() => undefined);
      return r?.ok ? r.text() : undefined;
    }, 10_000);
    expect(body).toBe("hello from skiff\n");
    const logs = await until("the output in the pod's logs", async () => {
      const out = await logsOf(containerID);
      return out?.includes("serving on 8080") ? out : undefined;
    }, 10_000);
    expect(logs.split("\n").filter((l) => l === "serving on 8080")).toHaveLength(1);
    // The sandbox and the container, as Docker containers of this instance.
    expect((await dockerContainers()).length).toBe(2);
  });

  if (runtime === "bun") {
    test("kubectl exec runs in the pod's container (stdin, exit code)", () => {
      expect(s!.k(["exec", "web", "--", "cat", "/www/index.html"])).toBe("hello from skiff\n");
      expect(s!.k(["exec", "-i", "web", "--", "tr", "a-z", "A-Z"], { input: "shout\n" })).toBe("SHOUT\n");
      expect(s!.kubectl(["exec", "web", "--", "sh", "-c", "exit 5"]).code).toBe(5);
    });
  }

  if (runtime === "bun") {
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

  test("restarting the server re-adopts the running pod without restarting it", async () => {
    expect(containerID).not.toBe("");
    const dockerBefore = await rt.engine.json("GET", `/containers/${containerID}/json`);
    await s!.stop();
    s = undefined;
    // The pod keeps running (and serving) while no server runs.
    expect((await rt.engine.json("GET", `/containers/${containerID}/json`)).State.Running).toBe(true);
    expect(await (await fetch(`http://${podIP}:8080/`)).text()).toBe("hello from skiff\n");
    await start();
    // Something to log after the restart: httpd -vv logs each request.
    await fetch(`http://${podIP}:8080/after-restart`).catch(() => undefined);
    const p = await until("the re-adopted pod's status", () => {
      const pod = json(s!.k(["get", "pod", "web", "-o", "json"]));
      const cs = pod.status?.containerStatuses?.[0];
      return pod.status?.phase === "Running" && cs?.ready ? pod : undefined;
    }, 30_000);
    const cs = p.status.containerStatuses[0];
    expect(cs.containerID).toBe(`docker://${containerID}`);
    expect(cs.restartCount).toBe(0);
    expect(cs.state.running.startedAt).toBe(startedAt);
    expect(p.status.podIP).toBe(podIP);
    const dockerAfter = await rt.engine.json("GET", `/containers/${containerID}/json`);
    expect(dockerAfter.State.StartedAt).toBe(dockerBefore.State.StartedAt);
    expect(dockerAfter.State.Pid).toBe(dockerBefore.State.Pid);
    expect((await dockerContainers()).length).toBe(2);
    const logs = await until("the request after the restart in the pod's logs", async () => {
      const out = await logsOf(containerID);
      return out?.includes("/after-restart") ? out : undefined;
    }, 15_000);
    expect(logs.split("\n").filter((l) => l === "serving on 8080")).toHaveLength(1);
  });

  test("deleting the pod removes its containers", async () => {
    s!.k(["delete", "pod", "web", "--wait=false"]);
    await until("the pod to be gone", () => s!.kubectl(["get", "pod", "web"]).code !== 0, 30_000);
    const left = await until("no Docker containers of this instance", async () => {
      const l = await dockerContainers();
      return l.length === 0 ? l : undefined;
    }, 15_000);
    expect(left).toEqual([]);
  });
});
