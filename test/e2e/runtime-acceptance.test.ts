/**
 * Issue 8's acceptance on real container runtimes, end to end with real
 * kubectl against a real all-in-one `skiff server --runtime containerd|docker`
 * (the daemon's socket given with `--containerd-socket` / `--docker-socket`):
 *
 * - a Deployment of 3 busybox httpd replicas with readiness probes: all
 *   Ready, each answering at its pod IP;
 * - `kubectl logs -f` streams what the container writes after it started;
 * - `kubectl exec` returns the command's exit code;
 * - `kubectl port-forward` reaches a pod;
 * - a crash-looping container restarts with growing back-off delays and
 *   shows CrashLoopBackOff;
 * - a rolling update to an image PULLED from a loopback docker-registry
 *   (built by scripts/mkimage.sh, pushed through the registry API), then
 *   `kubectl rollout undo` back to the imported one;
 * - the server SIGKILLed and started again on the same data dir: the
 *   containers keep running with the same ids;
 * - the daemon SIGKILLed under the running workload: the node turns
 *   NotReady (`container runtime is down`), and once the daemon is back the
 *   node is Ready and the pods Running and Ready again;
 * - deleting everything leaves no container, sandbox, network namespace,
 *   CNI IP allocation (containerd) or network endpoint (Docker) behind.
 *
 * Before all that, `skiff server` with a missing socket exits with one line.
 *
 * The body is a function of a runtime fixture (`RUNTIMES`), as in
 * services-acceptance.test.ts. Traffic goes only to loopback and the bridge
 * the private daemon creates. Everything is stopped and removed in afterAll,
 * also when a test fails. In CI a missing daemon, registry or kubectl fails
 * the suite; elsewhere it is skipped with one loud line.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RuntimeAdapter } from "../../core/runtime/adapter.ts";
import { ContainerdRuntime } from "../../runtime-adapters/containerd/index.ts";
import {
  containerdMissing,
  mkimage as ctrdMkimage,
  pushArchive,
  registryMissing,
  startContainerd,
  startRegistry,
  type TestContainerd,
  type TestRegistry,
} from "../../runtime-adapters/containerd/testing.ts";
import { DockerRuntime } from "../../runtime-adapters/docker/index.ts";
import { dockerdMissing, mkimage as dockerMkimage, startDockerd, type TestDockerd } from "../../runtime-adapters/docker/testing.ts";
import { haveKubectl, skiff, startServer, tempDir, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(90_000);

/** What differs between runtimes; the scenario is the same. */
interface RuntimeFixture {
  name: "containerd" | "docker";
  missing(): string | undefined;
  /** Starts the daemon, loads `image` (built from `archive`), lets it pull from `registry`; returns server flags and plugin settings. */
  setUp(ctx: { dir: string; registry: TestRegistry; archive: string; image: string }): Promise<{ flags: string[]; plugins: Record<string, unknown> }>;
  /** An adapter on the same daemon (the test's own view of what runs). */
  adapter(): RuntimeAdapter;
  /** The Linux bridge pods are attached to (every port in hairpin mode: CNI's hairpinMode, the Docker adapter's own). */
  bridge(): string;
  /** SIGKILLs the daemon; `start()` starts it again with the same command line. */
  kill(): { start(): void };
  /** Whether containers survive the daemon's SIGKILL (containerd's shims keep them; dockerd without live-restore stops them). */
  containersSurviveDaemon: boolean;
  /** What the runtime still holds besides the adapter's listing: network namespaces, IP allocations, endpoints (empty = clean). */
  leftovers(): Promise<string[]>;
  cleanUp(): Promise<void>;
}

/** Network namespaces mounted under `dir` (live ones: an unmounted file left for the daemon's lazy cleanup holds nothing). */
function netnsMounts(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(dir) && m.includes("netns"));
}

/** `ip netns list`, by name. */
function ipNetns(): string[] {
  return spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").map((l) => l.split(" ")[0]!).filter(Boolean);
}

/** The command line of a running process, to start it again the same way after a SIGKILL. */
function killAndRemember(pidFile: string, opts: { staleFiles?: string[] } = {}): { start(): void } {
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  const cwd = spawnSync("readlink", [`/proc/${pid}/cwd`], { encoding: "utf8" }).stdout.trim() || "/";
  process.kill(pid, "SIGKILL");
  spawnSync("sh", ["-c", `while [ -e /proc/${pid} ] && ! grep -q '^State:.*Z' /proc/${pid}/status 2>/dev/null; do sleep 0.05; done`], { timeout: 10_000 });
  for (const f of opts.staleFiles ?? []) rmSync(f, { force: true });
  return {
    start() {
      // Output goes to the daemon's log file, as the start script's.
      const logFile = join(pidFile, "..", `${argv[0]!.split("/").pop()}.log`);
      const r = spawnSync("sh", ["-c", `setsid "$@" >>"${logFile}" 2>&1 </dev/null & echo $!`, "sh", ...argv], { cwd, encoding: "utf8" });
      writeFileSync(pidFile, r.stdout.trim());
    },
  };
}

const containerdFixture = (): RuntimeFixture => {
  let c: TestContainerd | undefined;
  let rt: ContainerdRuntime | undefined;
  return {
    name: "containerd",
    missing: () => containerdMissing() ?? registryMissing() ?? (haveKubectl() ? undefined : "kubectl"),
    async setUp({ registry, archive }) {
      c = startContainerd("skiff-racc-ctrd-");
      c.allowInsecure(registry.host);
      rt = new ContainerdRuntime({ socket: c.socket });
      await rt.importImage(archive);
      return { flags: ["--runtime", "containerd", "--containerd-socket", c.socket], plugins: { "runtime-containerd": { config: { cgroupParent: c.cgroupParent } } } };
    },
    adapter: () => rt!,
    bridge: () => c!.bridge,
    kill: () => killAndRemember(join(c!.dir, "state", "containerd.pid")),
    containersSurviveDaemon: true,
    async leftovers() {
      const out: string[] = [];
      const state = join(c!.dir, "state");
      // netns_mounts_under_state_dir: CRI's pod network namespaces live under the state dir.
      const netns = spawnSync("sh", ["-c", `find "${state}/state" -path '*netns*' -type f 2>/dev/null`], { encoding: "utf8" }).stdout.trim();
      if (netns) out.push(`network namespace files: ${netns}`);
      const mounted = netnsMounts(state);
      if (mounted.length > 0) out.push(`network namespaces mounted: ${mounted.join(" ")}`);
      // host-local IPAM: one file per allocated IP (besides lock and last_reserved_ip.*).
      const ipam = join(state, "ipam");
      for (const net of existsSync(ipam) ? readdirSync(ipam) : []) {
        const ips = readdirSync(join(ipam, net)).filter((f) => f !== "lock" && !f.startsWith("last_reserved_ip"));
        if (ips.length > 0) out.push(`CNI IP allocations in ${net}: ${ips.join(" ")}`);
      }
      const veths = spawnSync("ip", ["-o", "link", "show", "master", c!.bridge], { encoding: "utf8" }).stdout.trim();
      if (veths) out.push(`veths on ${c!.bridge}: ${veths}`);
      return out;
    },
    async cleanUp() {
      await rt?.close();
      await c?.stop();
    },
  };
};

const dockerFixture = (): RuntimeFixture => {
  let d: TestDockerd | undefined;
  let rt: DockerRuntime | undefined;
  return {
    name: "docker",
    missing: () => dockerdMissing() ?? registryMissing() ?? (haveKubectl() ? undefined : "kubectl"),
    async setUp({ dir, archive }) {
      d = startDockerd("skra-");
      const pause = dockerMkimage(join(dir, "pause.tar"), "skiff.local/pause:1", ["/bin/sleep", "2147483647"]);
      const config = { instance: d.instance, network: d.network, bridge: d.bridge, subnet: d.subnet, pauseImage: "skiff.local/pause:1", pauseImageArchive: pause };
      rt = new DockerRuntime({ socketPath: d.socket, ...config });
      await rt.importImage(archive);
      // 127.0.0.0/8 registries are plain HTTP to dockerd by default.
      return { flags: ["--runtime", "docker", "--docker-socket", d.socket], plugins: { "runtime-docker": { config } } };
    },
    adapter: () => rt!,
    bridge: () => d!.bridge,
    // dockerd refuses to start while its pid file exists.
    kill: () => killAndRemember(join(d!.dir, "d", "dockerd.spid"), { staleFiles: [join(d!.dir, "d", "dockerd.pid")] }),
    containersSurviveDaemon: false,
    async leftovers() {
      const out: string[] = [];
      const all = await rt!.engine.json<{ Id: string; Names: string[] }[]>("GET", "/containers/json", { query: { all: "1" } });
      if (all.length > 0) out.push(`docker containers: ${all.map((x) => x.Names.join(",")).join(" ")}`);
      const net = await rt!.engine.json<{ Containers?: Record<string, unknown> }>("GET", `/networks/${d!.network}`);
      if (Object.keys(net.Containers ?? {}).length > 0) out.push(`endpoints on ${d!.network}: ${Object.keys(net.Containers!).join(" ")}`);
      // libnetwork unmounts a sandbox's namespace at once and deletes the empty file in a periodic GC: mounts are what counts.
      const mounted = netnsMounts(d!.dir);
      if (mounted.length > 0) out.push(`network namespaces mounted: ${mounted.join(" ")}`);
      const veths = spawnSync("ip", ["-o", "link", "show", "master", d!.bridge], { encoding: "utf8" }).stdout.trim();
      if (veths) out.push(`veths on ${d!.bridge}: ${veths}`);
      return out;
    },
    async cleanUp() {
      await rt?.close();
      d?.stop();
    },
  };
};

const RUNTIMES: RuntimeFixture[] = [containerdFixture(), dockerFixture()];

const json = (s: string): any => JSON.parse(s);

/** The page a web pod serves: the image's version and the pod's name. */
const SERVE = (version: string) => [
  "/bin/sh",
  "-c",
  `trap 'exit 0' TERM; mkdir -p /tmp/www; echo "${version} $HOSTNAME" >/tmp/www/index.html; echo serving ${version}; httpd -f -vv -p 8080 -h /tmp/www & wait $!`,
];

async function httpText(url: string): Promise<string | undefined> {
  const r = await fetch(url, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
  return r?.ok ? (await r.text()).trim() : undefined;
}

function acceptance(fx: RuntimeFixture): void {
  const missing = fx.missing();
  describeWith(`issue 8 acceptance on ${fx.name} (e2e)`, missing === undefined, missing ?? "", () => {
    const tag = Math.random().toString(16).slice(2, 6);
    const NODE = `racc-${fx.name}-${tag}`;
    let dir = "";
    let registry: TestRegistry | undefined;
    let s: TestServer | undefined;
    let flags: string[] = [];
    let pulledImage = "";
    let netnsBefore: string[] = [];
    const children = new Set<ChildProcess>();

    const kubectlEnv = () => ({ PATH: process.env.PATH ?? "", HOME: join(s!.dir, "home"), KUBECONFIG: s!.kubeconfig });
    /** A long-running kubectl (logs -f, port-forward); killed in afterAll at the latest. */
    function kubectlBg(args: string[]): { proc: ChildProcess; out: () => string } {
      const proc = spawn("kubectl", args, { env: kubectlEnv(), stdio: ["ignore", "pipe", "pipe"] });
      children.add(proc);
      proc.on("exit", () => children.delete(proc));
      let out = "";
      proc.stdout!.on("data", (b: Buffer) => (out += b.toString()));
      proc.stderr!.on("data", (b: Buffer) => (out += b.toString()));
      return { proc, out: () => out };
    }

    const nodeReady = () => {
      const r = s!.kubectl(["get", "node", NODE, "-o", "json"]);
      return r.code === 0 ? json(r.out).status?.conditions?.find((c: { type: string }) => c.type === "Ready") : undefined;
    };

    async function start(): Promise<void> {
      s = await startServer("bun", flags, { dir });
      await until("the node to be Ready", () => nodeReady()?.status === "True", 30_000);
    }

    /** The Deployment's pods (not terminating), by name. */
    function webPods(): any[] {
      return json(s!.k(["get", "pods", "-l", "app=web", "-o", "json"])).items.filter((p: any) => !p.metadata.deletionTimestamp);
    }

    /** Resolves once the Deployment has exactly 3 Running, Ready pods of `image` (no others left); returns them. */
    async function rolledOut(image: string, ms = 60_000): Promise<any[]> {
      return until(`3 ready pods of ${image}`, () => {
        const all = json(s!.k(["get", "pods", "-l", "app=web", "-o", "json"])).items;
        const ok = all.filter(
          (p: any) => !p.metadata.deletionTimestamp && p.spec.containers[0].image === image && p.status?.phase === "Running" && p.status.podIP && p.status.containerStatuses?.[0]?.ready,
        );
        return ok.length === 3 && all.length === 3 ? ok : undefined;
      }, ms, 250);
    }

    beforeAll(async () => {
      dir = tempDir(`skiff-racc-${fx.name}-`);
      netnsBefore = ipNetns();
      registry = await startRegistry();
      const archive = join(dir, "web-1.tar");
      ctrdMkimage(archive, "skiff.local/web:1", SERVE("v1"));
      const archive2 = join(dir, "web-2.tar");
      pulledImage = `${registry.host}/skiff/web:2`;
      ctrdMkimage(archive2, pulledImage, SERVE("v2"));
      await pushArchive(archive2, registry.host, "skiff/web", "2");
      const set = await fx.setUp({ dir, registry, archive, image: "skiff.local/web:1" });
      flags = set.flags;
      mkdirSync(join(dir, "data"), { recursive: true });
      writeFileSync(
        join(dir, "data", "skiff.yaml"),
        JSON.stringify({
          nodeName: NODE,
          plugins: {
            ...set.plugins,
            "node-agent": { config: { server: { port: 0 }, backoff: { initialSeconds: 1, maxSeconds: 8 }, runtimeHealthSeconds: 1 } },
          },
        }),
      );
      await start();
    }, 180_000);

    afterAll(async () => {
      for (const c of children) c.kill("SIGKILL");
      try {
        await s?.stop();
      } finally {
        await fx.cleanUp();
        await registry?.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);

    test("`skiff server` with a missing socket exits at once with one line", () => {
      const flag = `--${fx.name}-socket`;
      const r = skiff(["server", "--data-dir", join(dir, "nosock"), "--listen", "127.0.0.1:0", "--runtime", fx.name, flag, join(dir, "nope.sock")]);
      expect(r.code).toBe(1);
      expect(r.err).toBe(`skiff: cannot reach ${fx.name}: no socket at ${join(dir, "nope.sock")}; is ${fx.name} running? (${flag} sets its path)\n`);
      // Something that exists but is no daemon: still one line naming it, no stack trace.
      const notDaemon = join(dir, "web-1.tar");
      const r2 = skiff(["server", "--data-dir", join(dir, "nosock"), "--listen", "127.0.0.1:0", "--runtime", fx.name, flag, notDaemon]);
      expect(r2.code).toBe(1);
      expect(r2.err).toMatch(new RegExp(`^skiff: cannot reach ${fx.name} at ${notDaemon.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: [^\n]+\n$`));
    });

    test("a Deployment of 3 httpd replicas with readiness probes: all Ready, each serving at its pod IP", async () => {
      s!.k(["apply", "-f", "-"], {
        input: JSON.stringify({
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "web" },
          spec: {
            replicas: 3,
            selector: { matchLabels: { app: "web" } },
            strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
            template: {
              metadata: { labels: { app: "web" } },
              spec: {
                terminationGracePeriodSeconds: 5,
                containers: [
                  {
                    name: "web",
                    image: "skiff.local/web:1",
                    imagePullPolicy: "IfNotPresent",
                    ports: [{ containerPort: 8080 }],
                    readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
                  },
                ],
              },
            },
          },
        }),
      });
      const pods = await rolledOut("skiff.local/web:1");
      for (const p of pods) expect(await httpText(`http://${p.status.podIP}:8080/`)).toBe(`v1 ${p.metadata.name}`);
      expect(new Set(pods.map((p) => p.status.podIP)).size).toBe(3);
      // Each pod's port on the bridge in hairpin mode (a pod reaches itself through its Service).
      const ports = spawnSync("ip", ["-d", "-o", "link", "show", "master", fx.bridge()], { encoding: "utf8" }).stdout.trim().split("\n");
      expect(ports.length).toBeGreaterThanOrEqual(3);
      for (const line of ports) expect(line).toContain(" hairpin on ");
      expect(pods.map((p) => p.status.containerStatuses[0].containerID.split("://")[0])).toEqual([fx.name, fx.name, fx.name]);
    });

    test("kubectl logs -f streams what the container writes while it runs", async () => {
      const p = webPods()[0];
      const f = kubectlBg(["logs", "-f", p.metadata.name]);
      try {
        await until("the first line in logs -f", () => f.out().includes("serving v1"), 15_000, 50);
        const marker = `/marker-${tag}`;
        await fetch(`http://${p.status.podIP}:8080${marker}`, { signal: AbortSignal.timeout(3000) });
        // busybox httpd -vv logs each request's url to stderr; it arrives on the open stream.
        await until("the request in logs -f", () => f.out().includes(`url:${marker}`), 15_000, 50);
        expect(f.proc.exitCode).toBeNull();
      } finally {
        f.proc.kill("SIGTERM");
      }
    });

    test("kubectl exec returns the command's exit code and output", () => {
      const name = webPods()[0].metadata.name;
      expect(s!.kubectl(["exec", name, "--", "sh", "-c", "exit 7"]).code).toBe(7);
      expect(s!.k(["exec", name, "--", "cat", "/tmp/www/index.html"]).trim()).toBe(`v1 ${name}`);
    });

    test("kubectl port-forward reaches a pod", async () => {
      const name = webPods()[0].metadata.name;
      const pf = kubectlBg(["port-forward", `pod/${name}`, ":8080"]);
      try {
        const port = await until("kubectl port-forward to listen", () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.out())?.[1], 15_000, 50);
        expect(await httpText(`http://127.0.0.1:${port}/`)).toBe(`v1 ${name}`);
      } finally {
        pf.proc.kill("SIGTERM");
      }
    });

    test("a crash-looping container restarts with growing back-off and shows CrashLoopBackOff", async () => {
      s!.k(["apply", "-f", "-"], {
        input: JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "crash" },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "crash", image: "skiff.local/web:1", command: ["/bin/sh", "-c", "echo crashing; exit 3"] }] },
        }),
      });
      // When each restart count was first seen, and whether CrashLoopBackOff was shown while waiting.
      const firstSeen = new Map<number, number>();
      let backOffShown = false;
      let lastExit: number | undefined;
      await until("4 restarts", () => {
        const r = s!.kubectl(["get", "pod", "crash", "-o", "json"]);
        if (r.code !== 0) return false;
        const cs = json(r.out).status?.containerStatuses?.[0];
        if (!cs) return false;
        if (!firstSeen.has(cs.restartCount)) firstSeen.set(cs.restartCount, Date.now());
        if (cs.state?.waiting?.reason === "CrashLoopBackOff") backOffShown = true;
        lastExit = cs.lastState?.terminated?.exitCode ?? lastExit;
        return cs.restartCount >= 4;
      }, 60_000, 100);
      expect(backOffShown).toBe(true);
      expect(lastExit).toBe(3);
      // Back-off 1 s, 2 s, 4 s (initial 1 s, doubling): each gap longer than the one before.
      const gap = (n: number) => firstSeen.get(n + 1)! - firstSeen.get(n)!;
      expect(firstSeen.has(2) && firstSeen.has(3) && firstSeen.has(4)).toBe(true);
      expect(gap(3)).toBeGreaterThan(gap(2) * 1.3);
      expect(gap(2)).toBeGreaterThan(1500);
      const table = await until("CrashLoopBackOff in kubectl get", () => {
        const out = s!.k(["get", "pod", "crash"]);
        return out.includes("CrashLoopBackOff") ? out : undefined;
      }, 20_000, 100);
      expect(table).toMatch(/crash\s+0\/1\s+CrashLoopBackOff\s+\d+/);
      s!.k(["delete", "pod", "crash", "--wait=false"]);
    });

    test("a rolling update to an image pulled from the registry, then rollout undo", async () => {
      const rt = fx.adapter();
      expect(await rt.imageStatus(pulledImage)).toBeNull();
      s!.k(["set", "image", "deployment/web", `web=${pulledImage}`]);
      const v2 = await rolledOut(pulledImage, 90_000);
      for (const p of v2) expect(await httpText(`http://${p.status.podIP}:8080/`)).toBe(`v2 ${p.metadata.name}`);
      expect((await rt.imageStatus(pulledImage))?.ref).toMatch(/^sha256:/);
      const events = json(s!.k(["get", "events", "-o", "json"])).items.map((e: { reason: string; message: string }) => `${e.reason}: ${e.message}`);
      expect(events).toContain(`Pulling: Pulling image "${pulledImage}"`);
      expect(s!.kubectl(["rollout", "status", "deployment/web", "--timeout=30s"]).code).toBe(0);

      s!.k(["rollout", "undo", "deployment/web"]);
      const v1 = await rolledOut("skiff.local/web:1", 90_000);
      for (const p of v1) expect(await httpText(`http://${p.status.podIP}:8080/`)).toBe(`v1 ${p.metadata.name}`);
      expect(json(s!.k(["get", "deployment", "web", "-o", "json"])).spec.template.spec.containers[0].image).toBe("skiff.local/web:1");
    });

    test("the server SIGKILLed and started again: the containers keep running with the same ids", async () => {
      const before = webPods().map((p) => [p.metadata.name, p.status.containerStatuses[0].containerID, p.status.containerStatuses[0].restartCount]);
      const running = (await fx.adapter().listContainers()).filter((c) => c.state === "running").map((c) => c.id).sort();
      s!.proc.kill("SIGKILL");
      await new Promise((r) => (s!.proc.exitCode !== null || s!.proc.signalCode !== null ? r(undefined) : s!.proc.once("exit", r)));
      // Nothing depends on the server: the runtime still runs the same containers.
      expect((await fx.adapter().listContainers()).filter((c) => c.state === "running").map((c) => c.id).sort()).toEqual(running);
      await start();
      await until("the pods re-adopted, Ready", () => {
        const now = webPods();
        return now.length === 3 && now.every((p) => p.status?.containerStatuses?.[0]?.ready) ? now : undefined;
      }, 30_000);
      const after = webPods().map((p) => [p.metadata.name, p.status.containerStatuses[0].containerID, p.status.containerStatuses[0].restartCount]);
      expect(after.sort()).toEqual(before.sort());
      for (const p of webPods()) expect(await httpText(`http://${p.status.podIP}:8080/`)).toBe(`v1 ${p.metadata.name}`);
    });

    test(`${fx.name} SIGKILLed under the workload: the node turns NotReady, then the pods recover`, async () => {
      const before = new Map(webPods().map((p) => [p.metadata.name, p.status.containerStatuses[0].containerID]));
      const daemon = fx.kill();
      let restarted = false;
      try {
        const down = await until("the node NotReady", () => {
          const c = nodeReady();
          return c?.status === "False" ? c : undefined;
        }, 20_000, 200);
        expect(down).toMatchObject({ reason: "KubeletNotReady", message: "container runtime is down" });
        // The agent kept running: its server still answers.
        expect(s!.proc.exitCode).toBeNull();
        daemon.start();
        restarted = true;
        await until("the node Ready again", () => nodeReady()?.status === "True", 60_000, 200);
        // Running, Ready, and each pod's reported IP answering with that pod's name (a recreated sandbox gets a new IP).
        const pods = await until("3 Running, Ready pods serving at their IPs", async () => {
          const now = webPods();
          if (now.length !== 3 || !now.every((p) => p.status?.phase === "Running" && p.status.containerStatuses?.[0]?.ready)) return undefined;
          for (const p of now) if ((await httpText(`http://${p.status.podIP}:8080/`)) !== `v1 ${p.metadata.name}`) return undefined;
          return now;
        }, 90_000, 250);
        expect(pods).toHaveLength(3);
        if (fx.containersSurviveDaemon) {
          // containerd's shims kept the containers: the same ones, never restarted.
          expect(new Map(pods.map((p) => [p.metadata.name, p.status.containerStatuses[0].containerID]))).toEqual(before);
          for (const p of pods) expect(p.status.containerStatuses[0].restartCount).toBe(0);
        }
      } finally {
        if (!restarted) daemon.start();
      }
    });

    test("deleting everything leaves no containers, sandboxes, network namespaces or IP allocations behind", async () => {
      s!.k(["delete", "deployment", "web"]);
      s!.kubectl(["delete", "pod", "crash", "--ignore-not-found"]);
      await until("every pod gone", () => json(s!.k(["get", "pods", "-o", "json"])).items.length === 0, 60_000, 250);
      const rt = fx.adapter();
      await until("the runtime to hold nothing", async () => (await rt.listPodSandboxes()).length === 0 && (await rt.listContainers()).length === 0, 30_000, 250);
      const left = await until("no leftovers", async () => {
        const l = await fx.leftovers();
        return l.length === 0 ? l : undefined;
      }, 20_000, 500).catch(async () => fx.leftovers());
      expect(left).toEqual([]);
      // Nothing in the host's named network namespaces either.
      expect(ipNetns().filter((n) => !netnsBefore.includes(n))).toEqual([]);
    });
  });
}

for (const fx of RUNTIMES) acceptance(fx);
