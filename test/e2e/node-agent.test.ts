/**
 * The node agent end to end on the process runtime: a real `skiff server`
 * (all-in-one, its own bridge and subnet), kubectl, and host processes as
 * containers. Needs root (pod network namespaces) and kubectl.
 *
 * Covered: a Deployment of 3 replicas of an HTTP server on the same port,
 * each Ready through its readiness probe and reachable at its pod IP; logs
 * (following), exec with exit codes and port-forward through the agent
 * endpoint, and through the API server with kubectl (logs, exec, stdin,
 * exit codes, port-forward over SPDY-in-WebSocket) and client-node's Exec;
 * crash restarts with back-off; a failing liveness probe; a pod that
 * ignores SIGTERM.
 *
 * Everything started (processes, namespaces, veths, the bridge, cgroups) is
 * removed in afterAll, also when a test fails.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import * as k8s from "@kubernetes/client-node";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { PassThrough, Readable } from "node:stream";
import { join } from "node:path";
import { builtinPlugins } from "../../plugins/index.ts";
import { agentExec, agentFetch, agentPortForward } from "../../plugins/node-agent/testing.ts";
import { removeLeftovers, testRuntimeNames } from "../../runtime-adapters/process/testing.ts";
import { haveKubectl, startServer, tempDir, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(60_000);

const root = process.getuid?.() === 0;
const { tag, names } = testRuntimeNames("ske", 215);
const NODE = `e2e-${tag}`;
const hasScheduler = builtinPlugins().some((p) => p.manifest.name === "scheduler" || (p.manifest.provides ?? []).includes("scheduler"));

function json(s: string): any {
  return JSON.parse(s);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWith("node agent e2e (process runtime)", haveKubectl() && root, "kubectl and root (pod network namespaces)", () => {
  let s: TestServer;
  let dir: string;
  let agent: string;
  let binder: ReturnType<typeof setInterval> | undefined;

  /** Without a scheduler plugin the test binds pending pods to the one node itself. */
  function bindPending(): void {
    const pods = json(s.k(["get", "pods", "-o", "json"])).items as any[];
    for (const p of pods) {
      if (p.spec.nodeName || p.metadata.deletionTimestamp) continue;
      const body = JSON.stringify({ apiVersion: "v1", kind: "Binding", metadata: { name: p.metadata.name }, target: { apiVersion: "v1", kind: "Node", name: NODE } });
      void s.fetch(`/api/v1/namespaces/default/pods/${p.metadata.name}/binding`, { method: "POST", headers: { "content-type": "application/json" }, body });
    }
  }

  const pod = (name: string) => json(s.k(["get", "pod", name, "-o", "json"]));
  const cstatus = (p: any, c = "c") => (p.status?.containerStatuses ?? []).find((x: any) => x.name === c);


  /** `pid=<n>` lines a container printed, from the agent endpoint. */
  async function pidOf(name: string, container = "c"): Promise<number> {
    // Running comes before the first line reaches the log: wait for it.
    return until(`a pid in the log of ${name}`, async () => {
      const text = await (await agentFetch(`${agent}/containerLogs/default/${name}/${container}`, s.adminTls)).text();
      const m = [...text.matchAll(/pid=(\d+)/g)].pop();
      return m ? Number(m[1]) : undefined;
    }, 10_000);
  }

  beforeAll(async () => {
    dir = tempDir("skiff-e2e-agent-");
    mkdirSync(join(dir, "data"), { recursive: true });
    writeFileSync(
      join(dir, "data", "skiff.yaml"),
      JSON.stringify({
        nodeName: NODE,
        runtime: "process",
        plugins: {
          "runtime-process": { config: names },
          "node-agent": { config: { server: { port: 0 }, stopPodsOnExit: "always" } },
        },
      }),
    );
    s = await startServer("bun", [], { dir });
    const node = await until("the node to register", () => {
      const r = s.kubectl(["get", "node", NODE, "-o", "json"]);
      return r.code === 0 ? json(r.out) : undefined;
    });
    // HTTPS with the cluster CA when the server is secure; the admin (system:masters) certificate is accepted there.
    agent = `${s.secure ? "https" : "http"}://127.0.0.1:${node.status.daemonEndpoints.kubeletEndpoint.Port}`;
    if (!hasScheduler) binder = setInterval(() => bindPending(), 300);
  }, 60_000);

  afterAll(async () => {
    clearInterval(binder);
    try {
      await s?.stop();
    } finally {
      await removeLeftovers({ stateDir: join(dir, "data", "runtime", "process"), ...names });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the node is Ready with the process runtime", () => {
    const out = s.k(["get", "nodes"]);
    expect(out).toMatch(new RegExp(`^${NODE}\\s+Ready`, "m"));
    const n = json(s.k(["get", "node", NODE, "-o", "json"]));
    expect(n.status.nodeInfo.containerRuntimeVersion).toBe("process://0.1.0");
  });

  test("a Deployment of 3 HTTP servers on one port: all Ready by readiness probe, each at its own pod IP", async () => {
    const server = [
      "const n = process.env.POD_NAME;",
      'Bun.serve({ hostname: "0.0.0.0", port: 8080, fetch(r) { const p = new URL(r.url).pathname; if (p === "/healthz") return new Response("ok"); console.log("GET " + p); return new Response("hello from " + n); } });',
      'console.log("listening as " + n);',
    ].join(" ");
    const deploy = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [
              {
                name: "web",
                image: "local/bun-http:1",
                command: [process.execPath, "-e", server],
                env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
                ports: [{ containerPort: 8080 }],
                readinessProbe: { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    };
    s.k(["apply", "-f", "-"], { input: JSON.stringify(deploy) });
    const pods = await until("3 Ready web pods", () => {
      const items = json(s.k(["get", "pods", "-l", "app=web", "-o", "json"])).items as any[];
      const ready = items.filter((p) => p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"));
      return ready.length === 3 ? ready : undefined;
    }, 45_000);
    const ips = pods.map((p) => p.status.podIP as string);
    expect(new Set(ips).size).toBe(3);
    const prefix = names.subnet.split(".").slice(0, 3).join(".");
    for (const p of pods) {
      expect(p.status.podIP.startsWith(prefix)).toBe(true);
      expect(await (await fetch(`http://${p.status.podIP}:8080/`)).text()).toBe(`hello from ${p.metadata.name}`);
      expect(cstatus(p, "web")).toMatchObject({ ready: true, started: true, restartCount: 0 });
    }
    expect(s.k(["get", "pods", "-l", "app=web"])).toMatch(/web-\S+\s+1\/1\s+Running/);
  });

  test("logs (also following), exec with exit codes, and port-forward through the agent endpoint", async () => {
    const web = (json(s.k(["get", "pods", "-l", "app=web", "-o", "json"])).items as any[])[0];
    const name = web.metadata.name as string;
    const text = await (await agentFetch(`${agent}/containerLogs/default/${name}/web`, s.adminTls)).text();
    expect(text.startsWith(`listening as ${name}\n`)).toBe(true);
    expect(text).toContain("GET /\n");
    // Follow: the stream stays open and delivers what the container writes next.
    const ac = new AbortController();
    const res = await agentFetch(`${agent}/containerLogs/default/${name}/web?follow=true`, s.adminTls, { signal: ac.signal });
    const reader = res.body!.getReader();
    let followed = new TextDecoder().decode((await reader.read()).value);
    expect(followed.startsWith(`listening as ${name}\n`)).toBe(true);
    await fetch(`http://${web.status.podIP}:8080/log-me`);
    while (!followed.includes("GET /log-me\n")) followed += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    await reader.cancel().catch(() => undefined);
    const ex = await agentExec(agent, "default", name, "web", ["sh", "-c", "echo out; echo err >&2; exit 3"], undefined, s.adminTls);
    expect(ex).toMatchObject({ stdout: "out\n", stderr: "err\n", code: 3 });
    expect((await agentExec(agent, "default", name, "web", ["cat"], "piped\n", s.adminTls)).stdout).toBe("piped\n");
    expect((await agentExec(agent, "default", name, "web", ["true"], undefined, s.adminTls)).code).toBe(0);
    const reply = await agentPortForward(agent, "default", name, 8080, "GET / HTTP/1.0\r\nHost: x\r\n\r\n", 5000, s.adminTls);
    expect(reply).toMatch(/^HTTP\/1\.[01] 200/);
    expect(reply).toContain(`hello from ${name}`);
  });

  test("kubectl logs and logs -f through the API server", async () => {
    const web = (json(s.k(["get", "pods", "-l", "app=web", "-o", "json"])).items as any[])[0];
    const name = web.metadata.name as string;
    expect(s.k(["logs", name]).startsWith(`listening as ${name}\n`)).toBe(true);
    expect(s.k(["logs", name, "-c", "web", "--tail=1"]).split("\n").filter(Boolean).length).toBe(1);
    // Follow: the stream stays open and shows the first line at once.
    const follow = Bun.spawn(["kubectl", "logs", "-f", name], {
      env: { PATH: process.env.PATH ?? "", HOME: join(s.dir, "home"), KUBECONFIG: s.kubeconfig },
      stdout: "pipe",
    });
    const reader = follow.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first.startsWith(`listening as ${name}`)).toBe(true);
    await Bun.sleep(300);
    expect(follow.exitCode).toBeNull(); // still following
    follow.kill();
    await follow.exited;
    const unknown = s.kubectl(["logs", name, "-c", "nope"]);
    expect(unknown.code).not.toBe(0);
    expect(s.kubectl(["logs", "no-such-pod"]).err).toContain('pods "no-such-pod" not found');
  });

  /** kubectl as a child process with the test's HOME and kubeconfig. */
  const spawnKubectl = (args: string[], env: Record<string, string> = {}) =>
    Bun.spawn(["kubectl", ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: join(s.dir, "home"), KUBECONFIG: s.kubeconfig, ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });

  /** A pod running `command`, waited for until its container runs. */
  async function runningPod(name: string, command: string[], extra: Record<string, unknown> = {}): Promise<any> {
    s.k(["apply", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, ...extra }, spec: { containers: [{ name: "c", image: "local/sh", command }] } }),
    });
    return until(`${name} running`, () => cstatus(pod(name))?.state?.running && pod(name).status.phase === "Running" && pod(name));
  }

  test("kubectl exec through the API server: output, exit codes, stderr, stdin, and errors", async () => {
    await runningPod("shell", ["sleep", "3600"]);
    const hi = s.kubectl(["exec", "shell", "--", "echo", "hi"]);
    expect(hi).toMatchObject({ out: "hi\n", code: 0 });
    const three = s.kubectl(["exec", "shell", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(three).toMatchObject({ out: "out\n", code: 3 });
    expect(three.err).toContain("err\n");
    expect(three.err).toContain("command terminated with exit code 3");
    expect(s.kubectl(["exec", "-i", "shell", "--", "cat"], { input: "data\nmore\n" })).toMatchObject({ out: "data\nmore\n", code: 0 });
    expect(s.kubectl(["exec", "shell", "-c", "c", "--", "true"])).toMatchObject({ out: "", code: 0 });
    const missing = s.kubectl(["exec", "no-such-pod", "--", "true"]);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain('pods "no-such-pod" not found');
    const badContainer = s.kubectl(["exec", "shell", "-c", "nope", "--", "true"]);
    expect(badContainer.code).not.toBe(0);
    expect(badContainer.err).toContain("container nope is not valid for pod shell");
    // kubectl's SPDY fallback (WebSocket off) gets a Status naming the WebSocket protocols.
    const spdy = s.kubectl(["exec", "shell", "--", "true"], { env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false" } });
    expect(spdy.code).not.toBe(0);
    expect(spdy.err).toContain("v5.channel.k8s.io");
  });

  test("@kubernetes/client-node Exec through the API server: output, stdin and the exit status", async () => {
    if (s.kubectl(["get", "pod", "shell"]).code !== 0) await runningPod("shell", ["sleep", "3600"]);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(s.kubeconfig);
    const run = (command: string[], input?: string) =>
      new Promise<{ out: string; err: string; status: k8s.V1Status }>((resolve, reject) => {
        const out = new PassThrough();
        const err = new PassThrough();
        let o = "";
        let e = "";
        out.on("data", (d: Buffer) => (o += d));
        err.on("data", (d: Buffer) => (e += d));
        const stdin = input === undefined ? null : Readable.from([Buffer.from(input)]);
        new k8s.Exec(kc).exec("default", "shell", "c", command, out, err, stdin, false, (status) => resolve({ out: o, err: e, status })).catch(reject);
      });
    const ok = await run(["sh", "-c", "echo from client-node; echo oops >&2"]);
    expect(ok).toMatchObject({ out: "from client-node\n", err: "oops\n", status: { status: "Success" } });
    const four = await run(["sh", "-c", "exit 4"]);
    expect(four.status).toMatchObject({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "4" }] } });
    expect((await run(["cat"], "fed through stdin\n")).out).toBe("fed through stdin\n");
  });

  test("kubectl port-forward through the API server reaches a server in the pod, for several connections and a MiB each way", async () => {
    const echo = 'require("node:net").createServer((c) => c.pipe(c)).listen(9000, "0.0.0.0", () => console.log("echo ready"));';
    await runningPod("echo", [process.execPath, "-e", echo]);
    await until("the echo server", async () => (await (await agentFetch(`${agent}/containerLogs/default/echo/c`, s.adminTls)).text()).includes("echo ready"));
    // A free local port for LOCAL:REMOTE.
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const local = probe.port;
    probe.stop(true);
    const pf = spawnKubectl(["port-forward", "pod/echo", `${local}:9000`]);
    try {
      const reader = pf.stdout.getReader();
      let banner = "";
      while (!banner.includes(`Forwarding from 127.0.0.1:${local} -> 9000`)) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`kubectl port-forward exited: ${await new Response(pf.stderr).text()}`);
        banner += new TextDecoder().decode(value);
      }
      const roundTrip = (payload: Buffer) =>
        new Promise<Buffer>((resolve, reject) => {
          const got: Buffer[] = [];
          let n = 0;
          const sock = require("node:net").connect(local, "127.0.0.1", () => sock.end(payload));
          sock.on("data", (d: Buffer) => {
            got.push(d);
            n += d.length;
            if (n >= payload.length) {
              sock.destroy();
              resolve(Buffer.concat(got));
            }
          });
          sock.on("error", reject);
          sock.on("close", () => (n < payload.length ? reject(new Error(`closed after ${n} of ${payload.length} bytes`)) : undefined));
        });
      expect((await roundTrip(Buffer.from("hello through the tunnel\n"))).toString()).toBe("hello through the tunnel\n");
      expect((await roundTrip(Buffer.from("second connection\n"))).toString()).toBe("second connection\n");
      const big = Buffer.alloc(1 << 20);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 255;
      const back = await roundTrip(big);
      expect(back.length).toBe(big.length);
      expect(back.equals(big)).toBe(true);
      expect(pf.exitCode).toBeNull();
    } finally {
      pf.kill();
      await pf.exited;
    }
    // A port nothing listens on: the error reaches kubectl, which keeps running.
    const pf2 = spawnKubectl(["port-forward", "pod/echo", `${local}:9001`]);
    try {
      const reader = pf2.stdout.getReader();
      let banner = "";
      while (!banner.includes("Forwarding from")) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`kubectl port-forward exited: ${await new Response(pf2.stderr).text()}`);
        banner += new TextDecoder().decode(value);
      }
      const closed = await new Promise<string>((resolve) => {
        const sock = require("node:net").connect(local, "127.0.0.1");
        let got = "";
        sock.on("data", (d: Buffer) => (got += d.toString()));
        sock.on("close", () => resolve(got));
        sock.on("error", () => resolve(got));
      });
      expect(closed).toBe("");
    } finally {
      pf2.kill();
      await pf2.exited;
    }
    expect(await new Response(pf2.stderr).text()).toMatch(/error forwarding port 9001/);
    const notFound = s.kubectl(["port-forward", "pod/no-such-pod", "9000:9000"]);
    expect(notFound.code).not.toBe(0);
    expect(notFound.err).toContain('pods "no-such-pod" not found');
  });

  test("a killed container is restarted at once, then after the back-off", async () => {
    s.k(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "crashy" },
        spec: { containers: [{ name: "c", image: "local/sh", command: ["sh", "-c", "echo pid=$$$$; exec sleep 3600"] }] },
      }),
    });
    await until("crashy running", () => cstatus(pod("crashy"))?.state?.running);
    const first = await pidOf("crashy");
    process.kill(first, "SIGKILL");
    const t1 = Date.now();
    await until("the first restart", () => cstatus(pod("crashy"))?.restartCount === 1 && cstatus(pod("crashy"))?.state?.running);
    expect(Date.now() - t1).toBeLessThan(5000);
    const pid2 = await (async () => {
      for (;;) {
        const p = await pidOf("crashy");
        if (p !== first) return p;
        await sleep(100);
      }
    })();
    process.kill(pid2, "SIGKILL");
    const t2 = Date.now();
    const waiting = await until("CrashLoopBackOff", () => cstatus(pod("crashy"))?.state?.waiting?.reason === "CrashLoopBackOff" && pod("crashy"));
    expect(cstatus(waiting).lastState.terminated).toMatchObject({ exitCode: 137 });
    await until("the second restart", () => cstatus(pod("crashy"))?.restartCount === 2 && cstatus(pod("crashy"))?.state?.running, 20_000);
    const waited = Date.now() - t2;
    expect(waited).toBeGreaterThanOrEqual(9000);
    expect(waited).toBeLessThan(15_000);
  }, 45_000);

  test("a failing liveness probe restarts the container", async () => {
    s.k(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "unlive" },
        spec: { containers: [{ name: "c", image: "local/sh", command: ["sleep", "3600"], livenessProbe: { tcpSocket: { port: 9 }, periodSeconds: 1, failureThreshold: 2 } }] },
      }),
    });
    const p = await until("a liveness restart", () => (cstatus(pod("unlive"))?.restartCount ?? 0) >= 1 && pod("unlive"));
    expect(cstatus(p).lastState.terminated.exitCode).toBe(143);
    const events = s.k(["get", "events", "--field-selector", "involvedObject.name=unlive", "-o", "json"]);
    const reasons = (json(events).items as any[]).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["Unhealthy", "Killing"]));
  });

  test("a pod that ignores SIGTERM is killed at its grace period", async () => {
    s.k(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "stubborn" },
        spec: { terminationGracePeriodSeconds: 3, containers: [{ name: "c", image: "local/sh", command: ["sh", "-c", "trap '' TERM; echo pid=$$$$; while :; do sleep 1; done"] }] },
      }),
    });
    await until("stubborn running", () => cstatus(pod("stubborn"))?.state?.running);
    const p = await pidOf("stubborn");
    const t0 = Date.now();
    s.k(["delete", "pod", "stubborn", "--wait=true", "--timeout=20s"]);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(2800);
    expect(took).toBeLessThan(10_000);
    expect(() => process.kill(p, 0)).toThrow();
  });
});
