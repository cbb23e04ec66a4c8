/**
 * Runs the RuntimeAdapter conformance suite against the containerd adapter,
 * over a private containerd (CRI + CNI bridge) this file starts and stops
 * (runtime-adapters/containerd/scripts). The suite's image is built offline
 * with scripts/mkimage.sh under a loopback registry's name, pushed to a
 * docker-registry this file starts, and imported: `pullImage` then really
 * pulls (from loopback only) and `importImage` loads the same archive.
 *
 * Also here: pulls with registry auth (htpasswd) — with credentials, without
 * (rejected), with wrong ones (rejected). In CI a missing containerd fails
 * the suite; elsewhere it is skipped with one loud line.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerConfig, PodSandboxConfig } from "../../core/runtime/adapter.ts";
import { parseCriRecord } from "../../core/runtime/cri-log.ts";
import { logText } from "../../plugins/node-agent/logs.ts";
import { ContainerdRuntime } from "../../runtime-adapters/containerd/index.ts";
import { containerdMissing, mkimage, pushArchive, registryMissing, startContainerd, startRegistry, type TestRegistry } from "../../runtime-adapters/containerd/testing.ts";
import { describeWith } from "../e2e/require.ts";
import { runtimeConformance } from "./runtime-suite.ts";

const missing = containerdMissing() ?? registryMissing();

// A real runtime on a busy 2-core machine: removing the suite's ~20 pods (each a CNI
// teardown, runc kills and snapshot removals) takes seconds, more than the 5 s default.
setDefaultTimeout(30_000);

if (missing) {
  describeWith("RuntimeAdapter conformance: containerd", false, missing, () => undefined);
} else {
  const dir = mkdtempSync(join(tmpdir(), "skiff-conf-containerd-"));
  const ctrd = startContainerd();
  const registry = await startRegistry().catch(async (e) => {
    await ctrd.stop();
    throw e;
  });
  ctrd.allowInsecure(registry.host);
  const image = `${registry.host}/conformance/busybox:1`;
  const archive = join(dir, "busybox.tar");
  mkimage(archive, image, ["/bin/sh"]);
  await pushArchive(archive, registry.host, "conformance/busybox", "1");
  // A container's main process as PID 1 of its own PID namespace ignores SIGTERM until the
  // shell has set a trap, which races with a stop right after the start. With one PID
  // namespace per pod (the pause process is PID 1) it gets default signal handling, which is
  // what the suite's workloads assume. The default (per-container) mode runs in the e2e test.
  const opts = { socket: ctrd.socket, cgroupParent: ctrd.cgroupParent, sharePidNamespace: true };

  // Runs before the conformance suite (whose cleanup stops containerd).
  describe("containerd: pulls with registry auth (htpasswd)", () => {
    let secured: TestRegistry;
    let rt: ContainerdRuntime;
    let name: string;
    beforeAll(async () => {
      secured = await startRegistry({ users: { alice: "s3cret-pass" } });
      ctrd.allowInsecure(secured.host);
      await pushArchive(archive, secured.host, "private/busybox", "2", { username: "alice", password: "s3cret-pass" });
      name = `${secured.host}/private/busybox:2`;
      rt = new ContainerdRuntime(opts);
    });
    afterAll(async () => {
      await rt?.close();
      await secured?.stop();
    });

    test("the registry itself refuses anonymous reads", async () => {
      expect((await fetch(`http://${secured.host}/v2/private/busybox/manifests/2`)).status).toBe(401);
    });

    test("without credentials the pull fails and nothing is stored", async () => {
      await expect(rt.pullImage(name)).rejects.toThrow(/401|unauthorized|authoriz/i);
      expect(await rt.imageStatus(name)).toBeNull();
    });

    test("wrong credentials fail", async () => {
      await expect(rt.pullImage(name, { serverAddress: secured.host, username: "alice", password: "wrong" })).rejects.toThrow(/401|unauthorized|authoriz/i);
      expect(await rt.imageStatus(name)).toBeNull();
    });

    test("username/password pull the image; the ref is the image's id", async () => {
      const ref = await rt.pullImage(name, { serverAddress: secured.host, username: "alice", password: "s3cret-pass" });
      expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect((await rt.imageStatus(name))?.ref).toBe(ref);
      expect((await rt.listImages()).find((i) => i.tags.includes(name))?.ref).toBe(ref);
      await rt.removeImage(name);
      expect(await rt.imageStatus(name)).toBeNull();
    });

    test("docker-config style `auth` (base64 user:password) works too", async () => {
      const auth = Buffer.from("alice:s3cret-pass").toString("base64");
      const ref = await rt.pullImage(name, { serverAddress: secured.host, auth });
      expect((await rt.imageStatus(name))?.ref).toBe(ref);
      await rt.removeImage(name);
    });
  });

  describe("containerd: pod and container settings reach the container", () => {
    let rt: ContainerdRuntime;
    const sandboxes: string[] = [];
    const rt0 = new ContainerdRuntime(opts);
    void rt0.close();
    beforeAll(async () => {
      rt = new ContainerdRuntime(opts);
      await rt.pullImage(image);
    });
    afterAll(async () => {
      for (const id of sandboxes) await rt.removePodSandbox(id);
      await rt.close();
    });

    /** Runs `script` in a fresh pod with `extra` and resolves with its output lines once it printed `done`. */
    async function output(n: string, script: string, extra: Partial<ContainerConfig>, sandboxExtra: Partial<PodSandboxConfig> = {}): Promise<string[]> {
      return (await run(n, script, extra, sandboxExtra)).lines;
    }

    async function run(n: string, script: string, extra: Partial<ContainerConfig>, sandboxExtra: Partial<PodSandboxConfig> = {}) {
      const logDirectory = join(dir, "logs", `sc-${n}`);
      mkdirSync(logDirectory, { recursive: true });
      const sb: PodSandboxConfig = {
        uid: `sc-${n}-${process.pid}`,
        name: `sc-${n}`,
        namespace: "conformance",
        attempt: 0,
        hostname: `sc-${n}`,
        hostNetwork: false,
        labels: {},
        annotations: {},
        portMappings: [],
        logDirectory,
        ...sandboxExtra,
      };
      const id = await rt.runPodSandbox(sb);
      sandboxes.push(id);
      const config: ContainerConfig = {
        name: "c",
        attempt: 0,
        image,
        command: ["/bin/sh", "-c", `${script}; echo done; exec sleep 3600`],
        args: [],
        env: [],
        mounts: [],
        logPath: join(logDirectory, "c.log"),
        stdin: false,
        stdinOnce: false,
        tty: false,
        resources: {},
        labels: {},
        annotations: {},
        ...extra,
      };
      const cid = await rt.createContainer(id, config, sb);
      await rt.startContainer(cid);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const lines = existsSync(config.logPath) ? readFileSync(config.logPath, "utf8").split("\n").filter(Boolean).map((l) => parseCriRecord(l)!.text) : [];
        if (lines.includes("done")) return { lines, sandboxId: id, containerId: cid };
        if (Date.now() > deadline) throw new Error(`no "done" in the output: ${lines.join(" | ")}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    test("runAsUser/runAsGroup, readOnlyRootFilesystem", async () => {
      const lines = await output("user", "id -u; id -g; touch /probe 2>/dev/null && echo writable || echo read-only; touch /tmp/x 2>/dev/null && echo tmp-writable || echo tmp-read-only", {
        securityContext: { runAsUser: 65534, runAsGroup: 65534, readOnlyRootFilesystem: true },
      });
      expect(lines.slice(0, 4)).toEqual(["65534", "65534", "read-only", "tmp-read-only"]);
    });

    test("defaults: root, writable root filesystem", async () => {
      const lines = await output("default", "id -u; touch /probe 2>/dev/null && echo writable || echo read-only", {});
      expect(lines.slice(0, 2)).toEqual(["0", "writable"]);
    });

    test("capabilities: drop ALL, add NET_BIND_SERVICE", async () => {
      const lines = await output("caps", "grep CapEff /proc/self/status", { securityContext: { capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } } });
      // CAP_NET_BIND_SERVICE is bit 10.
      expect(lines[0]).toMatch(/^CapEff:\s+0000000000000400$/);
    });

    test("DNS config becomes the sandbox's resolv.conf", async () => {
      const lines = await output("dns", "cat /etc/resolv.conf", {}, { dns: { servers: ["10.96.0.10"], searches: ["conformance.svc.cluster.local", "svc.cluster.local"], options: ["ndots:5"] } });
      expect(lines).toContain("nameserver 10.96.0.10");
      expect(lines).toContain("search conformance.svc.cluster.local svc.cluster.local");
      expect(lines).toContain("options ndots:5");
    });

    test("hostNetwork: no pod IP, the node's interfaces", async () => {
      const { lines, sandboxId } = await run("hostnet", "cat /proc/net/dev", {}, { hostNetwork: true });
      expect((await rt.podSandboxStatus(sandboxId))?.ip).toBeUndefined();
      // The CNI bridge of this containerd is an interface of the node, not of a pod network namespace.
      expect(lines.some((l) => l.trim().startsWith(`${ctrd.bridge}:`))).toBe(true);
    });

    test("hostPort: portmap forwards the node's port to the pod", async () => {
      const hostPort = 20000 + Math.floor(Math.random() * 20000);
      await run("hostport", "httpd -p 8080 -h /www", {}, { portMappings: [{ containerPort: 8080, hostPort, protocol: "TCP" }] });
      const deadline = Date.now() + 10_000;
      let body = "";
      while (Date.now() < deadline) {
        const r = await fetch(`http://127.0.0.1:${hostPort}/`).catch(() => undefined);
        if (r?.ok) {
          body = await r.text();
          break;
        }
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(body).toBe("hello from skiff\n");
    });

    // ctr needs a real terminal, which only Bun's PTY gives (Node and Deno adapters declare no tty); this suite always runs under bun test.
    test("exec with a TTY (Bun): a terminal, resized", async () => {
      expect(rt0.capabilities.tty).toBe(true);
      const { containerId } = await run("tty", "true", {});
      const chunks: Uint8Array[] = [];
      const resize = (async function* () {
        yield { width: 100, height: 40 };
      })();
      const code = await rt.exec!(containerId, ["sh", "-c", "sleep 0.5; tty; stty size"], { tty: true, stdout: new WritableStream({ write: (c) => void chunks.push(c) }), resize });
      const text = Buffer.concat(chunks).toString("utf8");
      expect(code).toBe(0);
      expect(text).toMatch(/\/dev\/pts\/\d+/);
      expect(text).toContain("40 100");
    });

    test("long lines become P records that the agent's log reader joins", async () => {
      const { lines } = await run("long", "head -c 40000 /dev/zero | tr '\\0' a; echo; echo short", {});
      const logPath = join(dir, "logs", "sc-long", "c.log");
      const records = readFileSync(logPath, "utf8").split("\n").filter(Boolean).map((l) => parseCriRecord(l)!);
      expect(records.filter((r) => r.partial).length).toBeGreaterThanOrEqual(2);
      expect(lines).toContain("short");
      const text = await logText(logPath);
      expect(text.split("\n").slice(0, 2)).toEqual(["a".repeat(40000), "short"]);
    });

    test("limits and requests: memory limit, CFS quota, CPU shares from the request", async () => {
      const lines = await output(
        "limits",
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max",
        { resources: { memoryBytes: 64 * 1024 * 1024, cpuMillis: 500, cpuRequestMillis: 250 } },
      );
      if (lines.length === 5) expect(lines.slice(0, 4)).toEqual([String(64 * 1024 * 1024), "50000", "100000", "256"]);
      else expect(lines.slice(0, 2)).toEqual([String(64 * 1024 * 1024), "50000 100000"]);
    });
  });

  const sh = (script: string) => ({ command: ["/bin/sh", "-c", script] });
  const forever = "exec sleep 3600";
  runtimeConformance("containerd", {
    dir,
    image,
    imageArchive: { path: archive, names: [image] },
    create: () => new ContainerdRuntime(opts),
    reopen: () => new ContainerdRuntime(opts),
    workload(w) {
      switch (w.kind) {
        case "run":
          return sh(`${w.stdout ? `echo ${w.stdout}; ` : ""}${forever}`);
        case "exit":
          return sh(`${w.stdout ? `echo ${w.stdout}; ` : ""}${w.stderr ? `echo ${w.stderr} >&2; ` : ""}sleep 0.05; exit ${w.code}`);
        case "ignore-term":
          return sh(`trap '' TERM; echo ready; while :; do sleep 0.1; done`);
        case "print-env":
          return sh(`${w.names.map((n) => `echo "${n}=$${n}"; `).join("")}${forever}`);
        case "read-file":
          return sh(`cat ${w.path}; ${forever}`);
        case "listen":
          return sh(`exec nc -ll -p ${w.port} -e sh -c 'echo hello; exec cat'`);
      }
    },
    execCommand(w) {
      switch (w.kind) {
        case "echo":
          return ["echo", w.text];
        case "exit":
          return ["sh", "-c", `exit ${w.code}`];
        case "cat":
          return ["cat"];
        case "sleep":
          return ["sleep", String(w.seconds)];
      }
    },
    async cleanup() {
      try {
        await registry.stop();
      } finally {
        await ctrd.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  });
}
