/**
 * Agents as their own processes (`skiff agent`) next to a `skiff server`:
 * SIGKILLing an agent and starting it again leaves its pods running (same
 * processes, same status); stopping an agent makes its node NotReady within
 * the grace period, and its pods are evicted after their toleration and
 * recreated on the other node by their ReplicaSet. Needs root and kubectl.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtinPlugins } from "../../plugins/index.ts";
import { removeLeftovers } from "../../runtime-adapters/process/testing.ts";
import { agentServerIdentity } from "../../core/server/auth/node-certificates.ts";
import { agentFetch } from "../../plugins/node-agent/testing.ts";
import { haveKubectl, ROOT, startServer, tempDir, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(60_000);

const root = process.getuid?.() === 0;
const tag = Math.random().toString(16).slice(2, 6);
const hasScheduler = builtinPlugins().some((p) => p.manifest.name === "scheduler" || (p.manifest.provides ?? []).includes("scheduler"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function names(letter: "a" | "b") {
  const n = Number.parseInt(tag, 16) % 120;
  return {
    bridge: `sk${letter}${tag}`,
    subnet: `10.216.${letter === "a" ? 2 * n : 2 * n + 1}.0/24`,
    netnsPrefix: `sk${letter}-${tag}-`,
    vethPrefix: `${letter}${tag}`,
    cgroupParent: `skiff-e2e-${letter}-${tag}`,
  };
}

function json(s: string): any {
  return JSON.parse(s);
}

describeWith("node agents as processes (process runtime)", haveKubectl() && root, "kubectl and root (pod network namespaces)", () => {
  let s: TestServer;
  let dir: string;
  let binder: ReturnType<typeof setInterval> | undefined;
  const agents = new Map<string, ChildProcess>();
  const NODE_A = `a-${tag}`;
  const NODE_B = `b-${tag}`;

  function startAgent(node: string, letter: "a" | "b"): Promise<ChildProcess> {
    const data = join(dir, letter);
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, "skiff.yaml"), JSON.stringify({ plugins: { "runtime-process": { config: names(letter) }, "node-agent": { config: { server: { port: 0 } } } } }));
    const proc = spawn(process.execPath, [join(ROOT, "core/cli/main.ts"), "agent", "--server", s.url, "--token", s.joinToken(), "--node-name", node, "--data-dir", data, "--runtime", "process"], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, SKIFF_LOG_LEVEL: "info" },
    });
    agents.set(node, proc);
    let err = "";
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`agent ${node} did not start: ${err}`)), 30_000);
      proc.stderr!.on("data", (d: Buffer) => {
        err += d.toString();
        if (err.includes('"msg":"agent running"')) {
          clearTimeout(t);
          resolve(proc);
        }
      });
      proc.once("exit", (code) => {
        clearTimeout(t);
        reject(new Error(`agent ${node} exited with ${code}: ${err}`));
      });
    });
  }

  async function stopAgent(node: string, signal: NodeJS.Signals): Promise<void> {
    const p = agents.get(node);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill(signal);
    await exited;
  }


  const readyNodes = (): string[] =>
    (json(s.k(["get", "nodes", "-o", "json"])).items as any[])
      .filter((n) => n.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"))
      .filter((n) => !(n.spec?.taints ?? []).some((t: any) => t.effect === "NoSchedule" || t.effect === "NoExecute"))
      .map((n) => n.metadata.name as string)
      .sort();

  /** Without a scheduler plugin: bind pending pods to the first Ready, untainted node. */
  function bindPending(): void {
    const target = readyNodes()[0];
    if (!target) return;
    for (const p of json(s.k(["get", "pods", "-o", "json"])).items as any[]) {
      if (p.spec.nodeName || p.metadata.deletionTimestamp) continue;
      const body = JSON.stringify({ apiVersion: "v1", kind: "Binding", metadata: { name: p.metadata.name }, target: { apiVersion: "v1", kind: "Node", name: target } });
      void s.fetch(`/api/v1/namespaces/default/pods/${p.metadata.name}/binding`, { method: "POST", headers: { "content-type": "application/json" }, body });
    }
  }

  // The agents' endpoints serve HTTPS with the cluster CA when the server is secure (the join gave them a serving certificate).
  // Checked as the API server does: chained to the cluster CA, naming the node (the dialed loopback address is not among its names).
  const agentTls = (node: string) => (s.adminTls ? { ...s.adminTls, checkServerIdentity: agentServerIdentity(node) } : undefined);
  const agentUrl = (node: string) => `${s.secure ? "https" : "http"}://127.0.0.1:${json(s.k(["get", "node", node, "-o", "json"])).status.daemonEndpoints.kubeletEndpoint.Port}`;

  beforeAll(async () => {
    dir = tempDir("skiff-e2e-nodes-");
    mkdirSync(join(dir, "data"), { recursive: true });
    writeFileSync(
      join(dir, "data", "skiff.yaml"),
      JSON.stringify({
        preset: "server",
        plugins: { "node-lifecycle-controller": { config: { nodeMonitorGracePeriodSeconds: 6, nodeMonitorPeriodSeconds: 1, nodeEvictionRate: 10, noExecuteDelaySeconds: 2, leaderElection: { enabled: false } } } },
      }),
    );
    s = await startServer("bun", [], { dir });
    await Promise.all([startAgent(NODE_A, "a"), startAgent(NODE_B, "b")]);
    await until("both nodes Ready", () => readyNodes().length === 2);
    if (!hasScheduler) binder = setInterval(() => bindPending(), 300);
  }, 60_000);

  afterAll(async () => {
    clearInterval(binder);
    try {
      for (const node of agents.keys()) await stopAgent(node, "SIGKILL");
      await s?.stop();
    } finally {
      for (const letter of ["a", "b"] as const) await removeLeftovers({ stateDir: join(dir, letter, "runtime", "process"), ...names(letter) });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("SIGKILL the agent and start it again: the pod keeps its process, container and status", async () => {
    s.k(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "keeper" },
        spec: { nodeName: NODE_A, containers: [{ name: "c", image: "local/sh", command: ["sh", "-c", "echo pid=$$$$; exec sleep 3600"] }] },
      }),
    });
    const before = await until("keeper running", () => {
      const p = json(s.k(["get", "pod", "keeper", "-o", "json"]));
      return p.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
    });
    // Through the API server: the remote agent's HTTPS endpoint, with the serving certificate its join got.
    const log = await until("the pid in keeper's log", () => /pid=\d+/.test(s.k(["logs", "keeper"])) && s.k(["logs", "keeper"]));
    const pid = Number(/pid=(\d+)/.exec(log)![1]);
    await stopAgent(NODE_A, "SIGKILL");
    expect(() => process.kill(pid, 0)).not.toThrow();
    await startAgent(NODE_A, "a");
    // Give the restarted agent a few sync rounds, then compare.
    await until("a fresh heartbeat", async () => (await (await agentFetch(`${agentUrl(NODE_A)}/healthz`, agentTls(NODE_A))).text()) === "ok");
    await sleep(2000);
    const after = json(s.k(["get", "pod", "keeper", "-o", "json"]));
    const [b, a] = [before.status.containerStatuses[0], after.status.containerStatuses[0]];
    expect(a.containerID).toBe(b.containerID);
    expect(a.restartCount).toBe(0);
    expect(a.state.running.startedAt).toBe(b.state.running.startedAt);
    expect(after.status.podIP).toBe(before.status.podIP);
    expect(after.status.phase).toBe("Running");
    expect(() => process.kill(pid, 0)).not.toThrow();
    const log2 = s.k(["logs", "keeper"]);
    expect(log2).toBe(log);
    s.k(["delete", "pod", "keeper", "--wait=true", "--timeout=30s"]);
    expect(() => process.kill(pid, 0)).toThrow();
  });

  test("stopping an agent: NotReady within the grace period, pods evicted after their toleration and recreated on the other node", async () => {
    const toleration = (key: string) => ({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 3 });
    s.k(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "moving" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "moving" } },
          template: {
            metadata: { labels: { app: "moving" } },
            spec: {
              tolerations: [toleration("node.kubernetes.io/unreachable"), toleration("node.kubernetes.io/not-ready")],
              terminationGracePeriodSeconds: 1,
              containers: [{ name: "c", image: "local/sh", command: ["sleep", "3600"] }],
            },
          },
        },
      }),
    });
    const running = () => (json(s.k(["get", "pods", "-l", "app=moving", "-o", "json"])).items as any[]).filter((p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp);
    const first = await until("2 running pods", () => (running().length === 2 ? running() : undefined));
    const victim = first.some((p) => p.spec.nodeName === NODE_A) ? NODE_A : NODE_B;
    const other = victim === NODE_A ? NODE_B : NODE_A;
    const onVictim = first.filter((p) => p.spec.nodeName === victim).map((p) => p.metadata.name as string);
    const t0 = Date.now();
    await stopAgent(victim, "SIGTERM");
    await until("the node to go NotReady", () => {
      const n = json(s.k(["get", "node", victim, "-o", "json"]));
      return n.status.conditions.find((c: any) => c.type === "Ready")?.status === "Unknown";
    });
    const notReadyAfter = Date.now() - t0;
    expect(notReadyAfter).toBeLessThan(6000 + 10_000 + 2000); // grace + one lease interval + a monitor pass
    const n = json(s.k(["get", "node", victim, "-o", "json"]));
    await until("the unreachable NoExecute taint", () => {
      const x = json(s.k(["get", "node", victim, "-o", "json"]));
      return (x.spec.taints ?? []).some((t: any) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoExecute");
    });
    void n;
    const replaced = await until("replacements running on the other node", () => {
      const r = running();
      return r.length === 2 && r.every((p) => p.spec.nodeName === other) ? r : undefined;
    }, 40_000);
    for (const name of onVictim) {
      const r = s.kubectl(["get", "pod", name, "-o", "json"]);
      if (r.code === 0) expect(json(r.out).metadata.deletionTimestamp).toBeDefined();
    }
    expect(replaced.map((p) => p.metadata.name).some((nm: string) => onVictim.includes(nm))).toBe(false);
  }, 80_000);
});
