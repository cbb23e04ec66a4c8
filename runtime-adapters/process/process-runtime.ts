/**
 * @module The process runtime: containers are host processes. See README.md
 * for what an image means here, the network (a namespace per pod when root),
 * cgroups, logs and re-adoption.
 *
 * State lives on disk under `stateDir` so that a new instance (an agent
 * restarted, even after SIGKILL) re-adopts everything: `sandboxes/<id>.json`
 * and `containers/<id>/` (`container.json` written by this module; `pid` and
 * `exit` written by the shim, which outlives the agent).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type {
  ContainerConfig,
  ContainerEvent,
  ContainerStats,
  ContainerState,
  ContainerStatus,
  ExecOptions,
  PodSandboxConfig,
  PodSandboxStatus,
  RuntimeAdapter,
  RuntimeCapabilities,
} from "../../core/runtime/adapter.ts";
import { Cgroups, detectCgroups } from "./cgroups.ts";
import { type NetworkOptions, networkAvailable, PodNetwork } from "./network.ts";
import { podFileMounts, writePodFiles } from "./pod-files.ts";
import { launchScript, SHIM_SCRIPT } from "./shim.ts";
import { connectTcp } from "../../core/runtime/tcp-stream.ts";
import { execPiped, execTty } from "./streams.ts";
import {
  alive,
  type ContainerRecord,
  containerStatus,
  imageRef,
  isExecutable,
  newId,
  procStart,
  readJson,
  readStamp,
  sandboxStatus,
  type SandboxRecord,
  within,
  writeJson,
} from "./records.ts";

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const MONITOR_MS = 250;

export interface ProcessRuntimeOptions {
  /** Where sandboxes and containers are recorded (survives restarts). */
  stateDir: string;
  /**
   * `auto` (default): a network namespace per pod when root with `ip`
   * available, else the host's network; `host`: always the host's network.
   */
  network?: "auto" | "host";
  /** Bridge, subnet and name prefixes for pod networks. */
  bridge?: string;
  subnet?: string;
  netnsPrefix?: string;
  vethPrefix?: string;
  /** Parent cgroup for containers (default `skiff`); `false` disables cgroups. */
  cgroupParent?: string | false;
  /** Use private mount and UTS namespaces per container when root (default true). */
  isolation?: boolean;
}

export class ProcessRuntime implements RuntimeAdapter {
  readonly name = "process";
  readonly capabilities: RuntimeCapabilities;
  readonly stateDir: string;
  readonly network?: PodNetwork;
  readonly cgroups: Cgroups;
  readonly #isolation: boolean;
  readonly #sandboxes = new Map<string, SandboxRecord>();
  readonly #containers = new Map<string, ContainerRecord>();
  readonly #children = new Map<string, ChildProcess>();
  readonly #listeners = new Set<(e: ContainerEvent) => void>();
  readonly #exitWaiters = new Map<string, (() => void)[]>();
  #monitor?: ReturnType<typeof setInterval>;
  #loaded = false;
  #closed = false;

  constructor(opts: ProcessRuntimeOptions) {
    this.stateDir = resolve(opts.stateDir);
    const root = process.getuid?.() === 0;
    const netOpts: NetworkOptions = {
      bridge: opts.bridge ?? "skiff0",
      subnet: opts.subnet ?? "10.88.0.0/16",
      netnsPrefix: opts.netnsPrefix ?? "skiff-",
      vethPrefix: opts.vethPrefix ?? "skv",
    };
    if ((opts.network ?? "auto") === "auto" && networkAvailable()) this.network = new PodNetwork(netOpts);
    this.cgroups = new Cgroups(opts.cgroupParent === false ? "none" : detectCgroups(), opts.cgroupParent || "skiff");
    this.#isolation = (opts.isolation ?? true) && root && existsSync("/usr/bin/unshare");
    this.capabilities = {
      podIP: this.network !== undefined,
      exec: true,
      tty: typeof (globalThis as { Bun?: { Terminal?: unknown } }).Bun?.Terminal === "function",
      portForward: true,
      resourceLimits: this.cgroups.available,
      stats: true,
      mounts: this.#isolation,
      events: true,
      persistent: true,
      images: false,
      imageStore: false,
    };
  }

  async version(): Promise<{ runtimeName: string; runtimeVersion: string }> {
    return { runtimeName: "process", runtimeVersion: "0.1.0" };
  }

  /** Images are not pulled: the command runs from the host's filesystem (see README). */
  async pullImage(image: string): Promise<string> {
    return imageRef(image);
  }

  async imageStatus(image: string): Promise<{ ref: string; size: number } | null> {
    return { ref: imageRef(image), size: 0 };
  }

  // ---- sandboxes --------------------------------------------------------------

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    this.#load();
    const id = newId();
    const rec: SandboxRecord = {
      id,
      uid: config.uid,
      name: config.name,
      namespace: config.namespace,
      attempt: config.attempt,
      hostname: config.hostname,
      hostNetwork: config.hostNetwork,
      labels: { ...config.labels },
      annotations: { ...config.annotations },
      createdAt: Date.now(),
      state: "ready",
    };
    if (this.network && !config.hostNetwork) {
      const inUse = new Set<string>();
      for (const s of this.#sandboxes.values()) if (s.ip && s.state === "ready") inUse.add(s.ip);
      rec.ip = this.network.allocate(inUse);
      rec.netns = this.network.netnsName(id);
      // Recorded before the network exists so a crash in between leaves nothing unaccounted for.
      this.#sandboxes.set(id, rec);
      this.#saveSandbox(rec);
      try {
        const i = await this.network.setUp(id, rec.ip);
        rec.veth = i.veth;
      } catch (e) {
        this.#sandboxes.delete(id);
        rmSync(this.#sandboxPath(id), { force: true });
        throw e;
      }
    }
    // Its own resolv.conf and hosts, bound over the host's in each container's private mount namespace.
    if (this.#isolation) {
      try {
        const files = writePodFiles(this.#sandboxFilesDir(id), config, rec.ip);
        if (files.resolvConf || files.hosts) rec.files = files;
      } catch (e) {
        this.#sandboxes.set(id, rec);
        await this.removePodSandbox(id);
        throw e;
      }
    }
    this.#sandboxes.set(id, rec);
    this.#saveSandbox(rec);
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    this.#load();
    const rec = this.#sandboxes.get(id);
    if (!rec) return;
    await Promise.all(this.#containersOf(id).map((c) => this.stopContainer(c.id, 0)));
    if (rec.netns && this.network) await this.network.tearDown({ netns: rec.netns, veth: rec.veth ?? `${this.network.opts.vethPrefix}${id.slice(0, 8)}` });
    if (rec.state !== "notready") {
      rec.state = "notready";
      this.#saveSandbox(rec);
    }
  }

  async removePodSandbox(id: string): Promise<void> {
    this.#load();
    if (!this.#sandboxes.has(id)) return;
    await this.stopPodSandbox(id);
    for (const c of this.#containersOf(id)) await this.removeContainer(c.id);
    this.#sandboxes.delete(id);
    rmSync(this.#sandboxPath(id), { force: true });
    rmSync(this.#sandboxFilesDir(id), { recursive: true, force: true });
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus | null> {
    this.#load();
    const rec = this.#sandboxes.get(id);
    return rec ? sandboxStatus(rec) : null;
  }

  async listPodSandboxes(): Promise<PodSandboxStatus[]> {
    this.#load();
    return [...this.#sandboxes.values()].map(sandboxStatus);
  }

  // ---- containers -------------------------------------------------------------

  async createContainer(sandboxId: string, config: ContainerConfig, _sandbox: PodSandboxConfig): Promise<string> {
    this.#load();
    const sb = this.#sandboxes.get(sandboxId);
    if (!sb) throw new Error(`sandbox ${sandboxId} not found`);
    if (sb.state !== "ready") throw new Error(`sandbox ${sandboxId} is not ready`);
    const argv = [...config.command, ...config.args];
    if (argv.length === 0) throw new Error("no command specified: the process runtime has no image entrypoint to fall back on");
    const id = newId();
    const isolated = this.#isolation;
    const rec: ContainerRecord = {
      id,
      sandboxId,
      name: config.name,
      attempt: config.attempt,
      image: config.image,
      imageRef: imageRef(config.image),
      logPath: config.logPath,
      labels: { ...config.labels },
      annotations: { ...config.annotations },
      createdAt: Date.now(),
      argv,
      // As containerd does: HOSTNAME is the pod's hostname unless the pod sets it.
      env: [
        ...(config.env.some((e) => e.name === "HOSTNAME") ? [] : [{ name: "HOSTNAME", value: sb.hostname || sb.name }]),
        ...config.env.map((e) => ({ name: e.name, value: e.value })),
      ],
      workingDir: config.workingDir || "/",
      mounts: isolated ? config.mounts.map((m) => ({ ...m })) : [],
      ...(isolated && sb.files ? { podFiles: podFileMounts(sb.files, config.mounts) } : {}),
      resources: { ...config.resources },
      state: "created",
      isolated,
      cgroups: this.cgroups.available,
    };
    mkdirSync(this.#containerDir(id), { recursive: true });
    this.#containers.set(id, rec);
    this.#saveContainer(rec);
    this.#emit("created", rec);
    return id;
  }

  async startContainer(id: string): Promise<void> {
    this.#load();
    const rec = this.#containers.get(id);
    if (!rec) throw new Error(`container ${id} not found`);
    if (rec.state !== "created") throw new Error(`container ${id} is ${rec.state}, not created`);
    const sb = this.#sandboxes.get(rec.sandboxId);
    if (!sb || sb.state !== "ready") return this.#startError(rec, `sandbox ${rec.sandboxId} is not ready`);
    const missing = this.#missingExecutable(rec);
    if (missing) return this.#startError(rec, missing);
    const dir = this.#containerDir(id);
    const procs = rec.cgroups ? this.cgroups.create(id, rec.resources) : [];
    writeFileSync(join(dir, "logpath"), rec.logPath);
    writeFileSync(
      join(dir, "launch.sh"),
      launchScript({
        argv: rec.argv,
        env: rec.env,
        workingDir: rec.workingDir,
        cgroupProcs: procs,
        ...(rec.isolated ? { hostname: sb.hostname || sb.name } : {}),
        mounts: rec.mounts,
        ...(rec.podFiles ? { podFiles: rec.podFiles } : {}),
        ...(sb.netns && !rec.isolated ? { netns: sb.netns } : {}),
        privateMounts: rec.isolated,
        launchedMarker: join(dir, "launched"),
      }),
    );
    if (rec.isolated) {
      writeFileSync(join(dir, "unshare"), "");
      // The shim enters the pod's network namespace before it makes the private mount namespace.
      if (sb.netns) writeFileSync(join(dir, "netns"), sb.netns);
    }
    const shim = join(this.stateDir, "shim.sh");
    const child = spawn("bash", [shim, dir], {
      detached: true,
      stdio: "ignore",
      env: { PATH: process.env.PATH ?? DEFAULT_PATH, LC_ALL: "C", TZ: "UTC" },
    });
    child.unref();
    this.#children.set(id, child);
    if (child.pid !== undefined) {
      rec.shimPid = child.pid;
      rec.shimStart = procStart(child.pid) ?? undefined;
    }
    const failed = new Promise<Error>((r) => {
      child.once("error", (e) => r(e));
      child.once("exit", () => {
        this.#children.delete(id);
        this.#refresh(rec);
        r(new Error("the shim exited before the container started"));
      });
    });
    let spawnError: Error | undefined;
    void failed.then((e) => (spawnError = e));
    // The shim writes `pid` right after starting the container, the launch
    // script `launched` once its namespaces and mounts are in place (or the
    // shim `exit` when it failed before): a few ms. Only then may exec enter
    // the container's namespaces and see what its process sees.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const stamp = readStamp(join(dir, "pid"));
      if (stamp && (existsSync(join(dir, "launched")) || existsSync(join(dir, "exit")) || spawnError)) {
        rec.pid = stamp[0];
        rec.startedAt = stamp[1];
        rec.pidStart = procStart(stamp[0]) ?? undefined;
        rec.state = "running";
        this.#saveContainer(rec);
        this.#emit("started", rec);
        this.#refresh(rec);
        this.#ensureMonitor();
        return;
      }
      if (spawnError && !existsSync(join(dir, "pid"))) return this.#startError(rec, spawnError.message);
      if (Date.now() > deadline) return this.#startError(rec, "the container did not start within 10s");
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.#load();
    const rec = this.#containers.get(id);
    if (!rec) return;
    this.#refresh(rec);
    if (rec.state === "exited") return;
    if (rec.state === "created" || rec.pid === undefined) {
      this.#markExited(rec, 137, Date.now(), "Error", "stopped before it started");
      return;
    }
    const exited = this.#waitExit(rec);
    if (timeoutSeconds > 0) {
      this.#signal(rec, "SIGTERM");
      if (await within(exited, timeoutSeconds * 1000)) return;
    }
    this.#signal(rec, "SIGKILL");
    this.#killCgroup(rec);
    if (await within(exited, 5000)) return;
    // The shim is gone too (it would have recorded the exit): record it ourselves.
    this.#markExited(rec, 137, Date.now(), "Error", "killed; the exit status was lost");
  }

  async removeContainer(id: string): Promise<void> {
    this.#load();
    const rec = this.#containers.get(id);
    if (!rec) return;
    this.#refresh(rec);
    if (rec.state !== "exited") await this.stopContainer(id, 0);
    if (rec.cgroups) this.cgroups.remove(id);
    this.#containers.delete(id);
    rmSync(this.#containerDir(id), { recursive: true, force: true });
    this.#emit("deleted", rec);
  }

  async containerStatus(id: string): Promise<ContainerStatus | null> {
    this.#load();
    const rec = this.#containers.get(id);
    if (!rec) return null;
    this.#refresh(rec);
    return containerStatus(rec);
  }

  async listContainers(filter: { podSandboxId?: string } = {}): Promise<ContainerStatus[]> {
    this.#load();
    const out: ContainerStatus[] = [];
    for (const rec of this.#containers.values()) {
      if (filter.podSandboxId !== undefined && rec.sandboxId !== filter.podSandboxId) continue;
      this.#refresh(rec);
      out.push(containerStatus(rec));
    }
    return out;
  }

  // ---- streaming, stats, events ---------------------------------------------

  async exec(containerId: string, command: string[], opts: ExecOptions): Promise<number> {
    this.#load();
    const rec = this.#containers.get(containerId);
    if (!rec) throw new Error(`container ${containerId} not found`);
    this.#refresh(rec);
    if (rec.state !== "running" || rec.pid === undefined) throw new Error(`container ${containerId} is not running`);
    if (command.length === 0) throw new Error("no command given");
    const sb = this.#sandboxes.get(rec.sandboxId);
    const env = rec.env.map((e) => `${e.name}=${e.value}`);
    let argv: string[];
    let cwd: string | undefined;
    if (rec.isolated) {
      argv = ["nsenter", "-t", String(rec.pid), "-m", "-u", ...(sb?.netns ? ["-n"] : []), "-w", "--", "env", "-i", ...env, ...command];
    } else if (sb?.netns) {
      argv = ["nsenter", `--net=/run/netns/${sb.netns}`, "--", "env", "-i", ...env, ...command];
      cwd = rec.workingDir;
    } else {
      argv = ["env", "-i", ...env, ...command];
      cwd = rec.workingDir;
    }
    if (opts.tty) return execTty(argv, cwd, opts);
    return execPiped(argv, cwd, opts);
  }

  async portForward(sandboxId: string, port: number): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }> {
    this.#load();
    const sb = this.#sandboxes.get(sandboxId);
    if (!sb || sb.state !== "ready") throw new Error(`sandbox ${sandboxId} is not ready`);
    return connectTcp(sb.ip ?? "127.0.0.1", port);
  }

  async stats(containerId: string): Promise<ContainerStats | null> {
    this.#load();
    const rec = this.#containers.get(containerId);
    if (!rec) return null;
    this.#refresh(rec);
    if (rec.state !== "running" || rec.pid === undefined) return null;
    const cg = rec.cgroups ? this.cgroups.usage(rec.id) : null;
    if (cg) return { cpuUsageNanos: cg.cpuNanos, memoryWorkingSetBytes: cg.memoryWorkingSet, timestamp: Date.now() };
    // No cgroup: the main process only, from /proc.
    try {
      const stat = readFileSync(`/proc/${rec.pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(f[11]) + Number(f[12]);
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${rec.pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
      return { cpuUsageNanos: ticks * 10_000_000, memoryWorkingSetBytes: rss, timestamp: Date.now() };
    } catch {
      return null;
    }
  }

  subscribe(listener: (event: ContainerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#monitor) clearInterval(this.#monitor);
    this.#monitor = undefined;
    this.#listeners.clear();
  }

  /**
   * Removes every sandbox and container this state dir records, and the
   * bridge when no sandbox is left and this instance created it. For an
   * ephemeral agent's shutdown and for tests.
   */
  async removeAll(): Promise<void> {
    this.#load();
    for (const id of [...this.#sandboxes.keys()]) await this.removePodSandbox(id);
    for (const id of [...this.#containers.keys()]) await this.removeContainer(id);
    if (this.network && this.#sandboxes.size === 0) await this.network.removeBridgeIfOurs();
    this.cgroups.removeParent();
  }

  // ---- internals ------------------------------------------------------------

  /** Reads the state dir once (re-adoption) and writes the shim. */
  #load(): void {
    if (this.#loaded) return;
    if (this.#closed) throw new Error("the process runtime is closed");
    mkdirSync(join(this.stateDir, "sandboxes"), { recursive: true });
    mkdirSync(join(this.stateDir, "containers"), { recursive: true });
    writeFileSync(join(this.stateDir, "shim.sh"), SHIM_SCRIPT);
    for (const f of readdirSync(join(this.stateDir, "sandboxes"))) {
      if (!f.endsWith(".json")) continue;
      const rec = readJson<SandboxRecord>(join(this.stateDir, "sandboxes", f));
      if (!rec?.id) continue;
      // After a reboot the namespace is gone: the sandbox is no longer ready (the agent makes a new one).
      if (rec.state === "ready" && rec.netns && !existsSync(`/run/netns/${rec.netns}`)) {
        rec.state = "notready";
        this.#saveSandbox(rec);
      }
      this.#sandboxes.set(rec.id, rec);
    }
    for (const d of readdirSync(join(this.stateDir, "containers"))) {
      const rec = readJson<ContainerRecord>(join(this.stateDir, "containers", d, "container.json"));
      if (rec?.id) this.#containers.set(rec.id, rec);
    }
    this.#loaded = true;
    if ([...this.#containers.values()].some((c) => c.state === "running")) this.#ensureMonitor();
  }

  #sandboxPath(id: string): string {
    return join(this.stateDir, "sandboxes", `${id}.json`);
  }

  /** The sandbox's own files (resolv.conf, hosts); beside its record, which #load tells apart by `.json`. */
  #sandboxFilesDir(id: string): string {
    return join(this.stateDir, "sandboxes", id);
  }

  #containerDir(id: string): string {
    return join(this.stateDir, "containers", id);
  }

  #saveSandbox(rec: SandboxRecord): void {
    writeJson(this.#sandboxPath(rec.id), rec);
  }

  #saveContainer(rec: ContainerRecord): void {
    if (!existsSync(this.#containerDir(rec.id))) return;
    writeJson(join(this.#containerDir(rec.id), "container.json"), rec);
  }

  #containersOf(sandboxId: string): ContainerRecord[] {
    return [...this.#containers.values()].filter((c) => c.sandboxId === sandboxId);
  }

  /** Folds what the shim wrote (pid, exit) into the record. */
  #refresh(rec: ContainerRecord): void {
    if (rec.state === "exited") return;
    const dir = this.#containerDir(rec.id);
    if (rec.state === "created") {
      const stamp = readStamp(join(dir, "pid"));
      if (!stamp) return;
      rec.pid = stamp[0];
      rec.startedAt = stamp[1];
      rec.state = "running";
      this.#saveContainer(rec);
    }
    const exit = readStamp(join(dir, "exit"));
    if (exit) {
      const [code, at] = exit;
      const oom = code === 137 && rec.cgroups && this.cgroups.oomKilled(rec.id);
      this.#markExited(rec, code, at, oom ? "OOMKilled" : code === 0 ? "Completed" : "Error");
      return;
    }
    // No exit recorded: is it still there? (a shim killed along with the container leaves nothing)
    if (rec.pid !== undefined && !this.#children.has(rec.id) && !alive(rec.shimPid, rec.shimStart) && !alive(rec.pid, rec.pidStart)) {
      // The shim writes `exit` before it ends: recheck once, it may have just done so.
      if (readStamp(join(dir, "exit"))) return this.#refresh(rec);
      this.#markExited(rec, 137, Date.now(), "Error", "the container's process disappeared without an exit status");
    }
  }

  #markExited(rec: ContainerRecord, code: number, at: number, reason: string, message?: string): void {
    if (rec.state === "exited") return;
    rec.state = "exited";
    rec.exitCode = code;
    rec.finishedAt = at;
    rec.reason = reason;
    if (message !== undefined) rec.message = message;
    if (rec.startedAt === undefined) rec.startedAt = at;
    this.#saveContainer(rec);
    if (rec.cgroups) this.cgroups.remove(rec.id);
    const waiters = this.#exitWaiters.get(rec.id) ?? [];
    this.#exitWaiters.delete(rec.id);
    for (const w of waiters) w();
    this.#emit("stopped", rec);
  }

  #startError(rec: ContainerRecord, message: string): never {
    this.#markExited(rec, 128, Date.now(), "StartError", message);
    throw new Error(message);
  }

  #waitExit(rec: ContainerRecord): Promise<void> {
    return new Promise((resolve) => {
      if (rec.state === "exited") return resolve();
      const list = this.#exitWaiters.get(rec.id) ?? [];
      list.push(resolve);
      this.#exitWaiters.set(rec.id, list);
      this.#ensureMonitor();
    });
  }

  #signal(rec: ContainerRecord, sig: "SIGTERM" | "SIGKILL"): void {
    if (rec.pid === undefined) return;
    const start = procStart(rec.pid);
    if (start === null || (rec.pidStart !== undefined && start !== rec.pidStart)) return;
    try {
      process.kill(-rec.pid, sig);
    } catch {
      try {
        process.kill(rec.pid, sig);
      } catch {
        /* gone */
      }
    }
  }

  /** SIGKILLs whatever is left in the container's cgroups (processes that left its process group). */
  #killCgroup(rec: ContainerRecord): void {
    if (!rec.cgroups) return;
    for (const dir of this.cgroups.dirs(rec.id)) {
      try {
        for (const p of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) {
          try {
            process.kill(Number(p), "SIGKILL");
          } catch {
            /* gone */
          }
        }
      } catch {
        /* no cgroup */
      }
    }
  }

  #ensureMonitor(): void {
    if (this.#monitor || this.#closed) return;
    this.#monitor = setInterval(() => {
      let running = 0;
      for (const rec of this.#containers.values()) {
        if (rec.state === "exited") continue;
        this.#refresh(rec);
        if ((rec.state as ContainerState) !== "exited") running++;
      }
      if (running === 0 && this.#exitWaiters.size === 0) {
        clearInterval(this.#monitor);
        this.#monitor = undefined;
      }
    }, MONITOR_MS);
    this.#monitor.unref?.();
  }

  #emit(type: ContainerEvent["type"], rec: ContainerRecord): void {
    const e: ContainerEvent = { type, containerId: rec.id, podSandboxId: rec.sandboxId, at: Date.now() };
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }

  /** The error message when the command cannot be found on the host, else null. */
  #missingExecutable(rec: ContainerRecord): string | null {
    const cmd = rec.argv[0]!;
    const underMount = (p: string) => rec.mounts.some((m) => p === m.containerPath || p.startsWith(`${m.containerPath.replace(/\/$/, "")}/`));
    if (cmd.includes("/")) {
      const p = isAbsolute(cmd) ? cmd : join(rec.workingDir, cmd);
      if (underMount(p) || isExecutable(p)) return null;
      return `exec: "${cmd}": stat ${cmd}: no such file or directory`;
    }
    const path = rec.env.find((e) => e.name === "PATH")?.value ?? DEFAULT_PATH;
    for (const d of path.split(delimiter)) {
      if (!d) continue;
      const p = join(d, cmd);
      if (underMount(p) || isExecutable(p)) return null;
    }
    return `exec: "${cmd}": executable file not found in $PATH`;
  }
}
