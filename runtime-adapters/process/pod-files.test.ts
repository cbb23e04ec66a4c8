/**
 * The process runtime's per-pod /etc/resolv.conf and /etc/hosts: the text
 * written, the launch script's bind mounts, and (as root) what a container
 * and an exec in it really see, that the host's files stay untouched, that
 * a reopened runtime's exec sees the same, and that removal cleans up.
 * Without root the sandbox's `dns` is ignored: the host's file is seen.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerConfig, PodSandboxConfig } from "../../core/runtime/adapter.ts";
import { hostsText, podFileMounts, resolvConfText } from "./pod-files.ts";
import { ProcessRuntime } from "./process-runtime.ts";
import { launchScript } from "./shim.ts";
import { removeLeftovers } from "./testing.ts";

const DNS = { servers: ["10.96.0.10"], searches: ["team.svc.cluster.local", "svc.cluster.local", "cluster.local"], options: ["ndots:5", "timeout:1"] };

describe("pod files: text", () => {
  test("resolv.conf is written as containerd writes it", () => {
    expect(resolvConfText(DNS)).toBe("search team.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5 timeout:1\n");
    expect(resolvConfText({ servers: ["1.1.1.1", "9.9.9.9"], searches: [], options: [] })).toBe("nameserver 1.1.1.1\nnameserver 9.9.9.9\n");
    expect(resolvConfText({ servers: [], searches: [], options: [] })).toBe("");
  });

  test("hosts maps localhost and the pod's hostname to its IP", () => {
    const t = hostsText("10.88.0.7", "web-1");
    expect(t).toContain("127.0.0.1\tlocalhost\n");
    expect(t.trimEnd().split("\n").pop()).toBe("10.88.0.7\tweb-1");
  });

  test("a volume mounted at /etc/hosts or /etc/resolv.conf wins over the pod's file", () => {
    const files = { resolvConf: "/s/resolv.conf", hosts: "/s/hosts" };
    expect(podFileMounts(files, [])).toEqual([
      { containerPath: "/etc/resolv.conf", hostPath: "/s/resolv.conf" },
      { containerPath: "/etc/hosts", hostPath: "/s/hosts" },
    ]);
    expect(podFileMounts(files, [{ containerPath: "/etc/hosts/" }])).toEqual([{ containerPath: "/etc/resolv.conf", hostPath: "/s/resolv.conf" }]);
    expect(podFileMounts(undefined, [])).toEqual([]);
  });

  test("the launch script binds the files before the volumes and never creates them on the host", () => {
    const s = launchScript({
      argv: ["true"],
      env: [],
      workingDir: "/",
      cgroupProcs: [],
      mounts: [{ containerPath: "/data", hostPath: "/srv/data", readOnly: false }],
      podFiles: [{ containerPath: "/etc/resolv.conf", hostPath: "/state/sandboxes/x/resolv.conf" }],
      privateMounts: true,
    });
    const bind = s.indexOf("mount --bind '/state/sandboxes/x/resolv.conf' '/etc/resolv.conf'");
    expect(bind).toBeGreaterThan(0);
    expect(bind).toBeLessThan(s.indexOf("mount --bind '/srv/data'"));
    expect(s).toContain("[[ -f '/etc/resolv.conf' ]] &&");
    expect(s).not.toMatch(/: >'\/etc\/resolv.conf'/);
  });
});

const root = process.getuid?.() === 0;

describe(`pod files in a real process runtime (${root ? "root: bound over the host's" : "not root: dns ignored"})`, () => {
  const dir = mkdtempSync(join(tmpdir(), "skiff-podfiles-"));
  const tag = Math.random().toString(16).slice(2, 6);
  const opts = {
    stateDir: join(dir, "state"),
    bridge: `skpf${tag}`,
    subnet: `10.214.${Number.parseInt(tag, 16) % 250}.0/24`,
    netnsPrefix: `skpf-${tag}-`,
    vethPrefix: `f${tag}`,
    cgroupParent: `skiff-test-pf-${tag}`,
  };
  const rt = new ProcessRuntime(opts);
  let reopened: ProcessRuntime | undefined;
  const hostResolv = readFileSync("/etc/resolv.conf", "utf8");
  const hostHosts = readFileSync("/etc/hosts", "utf8");
  let n = 0;

  afterAll(async () => {
    try {
      await rt.removeAll();
      await rt.close();
      await reopened?.close();
    } finally {
      await removeLeftovers(opts);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  function sandboxConfig(extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig {
    const i = ++n;
    const logDirectory = join(dir, "logs", `pod-${i}`);
    mkdirSync(logDirectory, { recursive: true });
    return {
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      name: `pod-${i}`,
      namespace: "team",
      attempt: 0,
      hostname: `host-${tag}-${i}`,
      hostNetwork: false,
      labels: {},
      annotations: {},
      portMappings: [],
      logDirectory,
      ...extra,
    };
  }

  function containerConfig(sb: PodSandboxConfig, command: string[]): ContainerConfig {
    return {
      name: "c",
      attempt: 0,
      image: "local/sh",
      command,
      args: [],
      env: [],
      mounts: [],
      logPath: join(sb.logDirectory, "c.log"),
      stdin: false,
      stdinOnce: false,
      tty: false,
      resources: {},
      labels: {},
      annotations: {},
    };
  }

  /** A running container printing its resolv.conf and hosts; its sandbox id and container id. */
  async function pod(extra: Partial<PodSandboxConfig> = {}): Promise<{ sb: string; c: string; config: PodSandboxConfig }> {
    const config = sandboxConfig(extra);
    const sb = await rt.runPodSandbox(config);
    const c = await rt.createContainer(sb, containerConfig(config, ["sh", "-c", "cat /etc/resolv.conf; echo ===; cat /etc/hosts; echo END; exec sleep 3600"]), config);
    await rt.startContainer(c);
    return { sb, c, config };
  }

  async function logged(config: PodSandboxConfig): Promise<{ resolv: string; hosts: string }> {
    const path = join(config.logDirectory, "c.log");
    const deadline = Date.now() + 10_000;
    for (;;) {
      const text = existsSync(path) ? readFileSync(path, "utf8") : "";
      // CRI records: `<time> stdout F <line>`.
      const lines = text.split("\n").filter(Boolean).map((l) => l.split(" ").slice(3).join(" "));
      if (lines.includes("END")) {
        const body = lines.slice(0, lines.indexOf("END")).join("\n") + "\n";
        const [resolv, hosts] = body.split("===\n");
        return { resolv: resolv!, hosts: hosts! };
      }
      if (Date.now() > deadline) throw new Error(`no END in ${path}: ${text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function execOut(runtime: ProcessRuntime, id: string, command: string[]): Promise<{ code: number; out: string }> {
    const chunks: Uint8Array[] = [];
    const code = await runtime.exec(id, command, { stdout: new WritableStream({ write: (c) => void chunks.push(c) }) });
    return { code, out: Buffer.concat(chunks).toString("utf8") };
  }

  if (root) {
    test("a sandbox with dns: its containers and execs see its resolv.conf and hosts; the host's files are untouched", async () => {
      const { sb, c, config } = await pod({ dns: DNS });
      const seen = await logged(config);
      expect(seen.resolv).toBe(resolvConfText(DNS));
      const ip = (await rt.podSandboxStatus(sb))!.ip!;
      expect(ip).toBeTruthy();
      expect(seen.hosts).toBe(hostsText(ip, config.hostname));
      expect((await execOut(rt, c, ["cat", "/etc/resolv.conf"])).out).toBe(resolvConfText(DNS));
      // The normal resolver (glibc, through nsswitch `files`) finds the pod's own name.
      const g = await execOut(rt, c, ["getent", "hosts", config.hostname]);
      expect(g.code).toBe(0);
      expect(g.out.trim().split(/\s+/)).toEqual([ip, config.hostname]);
      expect(readFileSync("/etc/resolv.conf", "utf8")).toBe(hostResolv);
      expect(readFileSync("/etc/hosts", "utf8")).toBe(hostHosts);
    });

    test("an exec right after startContainer already sees the pod's files (start waits for the launch script's mounts)", async () => {
      for (let i = 0; i < 5; i++) {
        const config = sandboxConfig({ dns: DNS });
        const sb = await rt.runPodSandbox(config);
        const c = await rt.createContainer(sb, containerConfig(config, ["sleep", "3600"]), config);
        await rt.startContainer(c);
        expect((await execOut(rt, c, ["cat", "/etc/resolv.conf"])).out).toBe(resolvConfText(DNS));
        await rt.removePodSandbox(sb);
      }
    });

    test("two pods see their own resolv.conf; a pod without dns sees the host's, with its own hosts", async () => {
      const other = { servers: ["10.96.0.53"], searches: ["other.svc.cluster.local"], options: ["ndots:2"] };
      const a = await pod({ dns: other, namespace: "other" });
      const b = await pod();
      expect((await logged(a.config)).resolv).toBe(resolvConfText(other));
      const plain = await logged(b.config);
      expect(plain.resolv).toBe(hostResolv);
      expect(plain.hosts).toContain(`\t${b.config.hostname}\n`);
    });

    test("a hostNetwork pod with dns gets the resolv.conf but keeps the host's /etc/hosts", async () => {
      const { config } = await pod({ dns: DNS, hostNetwork: true });
      const seen = await logged(config);
      expect(seen.resolv).toBe(resolvConfText(DNS));
      expect(seen.hosts).toBe(hostHosts);
    });

    test("a reopened runtime's exec sees the same files; removing the sandbox removes them", async () => {
      const { sb, c } = await pod({ dns: DNS });
      const files = join(opts.stateDir, "sandboxes", sb);
      expect(readFileSync(join(files, "resolv.conf"), "utf8")).toBe(resolvConfText(DNS));
      reopened = new ProcessRuntime(opts);
      expect((await execOut(reopened, c, ["cat", "/etc/resolv.conf"])).out).toBe(resolvConfText(DNS));
      await reopened.removePodSandbox(sb);
      expect(existsSync(files)).toBe(false);
      expect(existsSync(join(opts.stateDir, "sandboxes", `${sb}.json`))).toBe(false);
    });
  } else {
    test("without root the sandbox's dns is ignored: the host's resolv.conf is seen", async () => {
      const { sb, config } = await pod({ dns: DNS });
      expect((await logged(config)).resolv).toBe(hostResolv);
      expect(existsSync(join(opts.stateDir, "sandboxes", sb))).toBe(false);
    });
  }
});
