/**
 * @module The fake runtime: sandboxes and containers that exist only in
 * memory, for scale tests (like KWOK) and for testing the node agent without
 * processes. It can simulate many nodes in one process (`simulatedNodes`).
 *
 * Containers run until stopped, unless a behavior says otherwise. A behavior
 * is JSON in an annotation, looked up in this order: the container config's
 * `fake.skiff.dev/behavior`, then the pod's (sandbox's)
 * `fake.skiff.dev/behavior.<container name>`, then the pod's
 * `fake.skiff.dev/behavior`. See `FakeBehavior`.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { formatCriRecords, type LogStream } from "../../core/runtime/cri-log.ts";
import type {
  ContainerConfig,
  ContainerEvent,
  ContainerStats,
  ContainerStatus,
  ExecOptions,
  PodSandboxConfig,
  PodSandboxStatus,
  RuntimeAdapter,
  RuntimeCapabilities,
  SimulatedNode,
} from "../../core/runtime/adapter.ts";

export const BEHAVIOR_ANNOTATION = "fake.skiff.dev/behavior";

/** What a fake container does. Every field is optional; the default runs forever silently. */
export interface FakeBehavior {
  /** Exit with this code after `runMs` (default 0 ms when `exitCode` is set). */
  exitCode?: number;
  /** Run this long, then exit with `exitCode` (default 0). */
  runMs?: number;
  /** Lines written to stdout / stderr when the container starts. */
  stdout?: string[];
  stderr?: string[];
  /** Print `NAME=value` of these environment variables to stdout at start. */
  echoEnv?: string[];
  /** SIGTERM does nothing; only the SIGKILL after the grace period stops it (exit 137). */
  ignoreSigterm?: boolean;
  /** `startContainer` fails with this message. */
  startError?: string;
  /** Reported working set, bytes (default 1 MiB). */
  memoryBytes?: number;
}

export interface FakeDelays {
  /** runPodSandbox takes this long. */
  sandboxMs: number;
  /** startContainer takes this long. */
  startMs: number;
  /** A container exits this long after SIGTERM. */
  stopMs: number;
}

interface SandboxRecord {
  status: PodSandboxStatus;
}

/**
 * One container. It keeps only what the runtime still needs after
 * `createContainer` — the environment (as `env` prints it) and the log path —
 * not the whole config: a density run holds 10,000 of these.
 */
interface ContainerRecord {
  status: ContainerStatus;
  /** `NAME=value\n` per variable, in order (shared between containers with the same environment). */
  envText: string;
  logPath: string;
  behavior: FakeBehavior;
  /** What the container writes to stdout when it starts (behavior `stdout` and `echoEnv`), when anything. */
  startOutput?: string[];
  timer?: ReturnType<typeof setTimeout>;
  /** Resolvers waiting for the container to exit (absent while none wait). */
  waiters?: (() => void)[];
}

/** The behavior of a container without a behavior annotation (shared, never changed). */
const DEFAULT_BEHAVIOR: FakeBehavior = Object.freeze({});

/**
 * Everything the fake runtime holds. Give a second FakeRuntime the same world
 * to simulate an agent restart that re-adopts what the first one started.
 */
export class FakeWorld {
  readonly sandboxes = new Map<string, SandboxRecord>();
  readonly containers = new Map<string, ContainerRecord>();
  /** Container ids by sandbox id. */
  readonly bySandbox = new Map<string, Set<string>>();
  readonly listeners = new Set<(e: ContainerEvent) => void>();
  nextId = 1;
  nextIp = 2;
  /** One copy of each repeated string the records hold (image refs, environments); bounded. */
  readonly #shared = new Map<string, string>();

  /** `s`, or the equal string already held: 10,000 containers of one image share one copy. */
  share(s: string): string {
    const have = this.#shared.get(s);
    if (have !== undefined) return have;
    if (this.#shared.size >= 4096) this.#shared.clear();
    this.#shared.set(s, s);
    return s;
  }

  id(prefix: string): string {
    return `${prefix}${(this.nextId++).toString(16).padStart(12, "0")}`;
  }

  /** Pod IPs from 10.128.0.0/9, never reused within a world. */
  ip(): string {
    const n = this.nextIp++ % (1 << 23);
    return `10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
  }

  emit(e: ContainerEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }
}

export interface FakeRuntimeOptions {
  world?: FakeWorld;
  delays?: Partial<FakeDelays>;
  /** Nodes to simulate; absent or empty = act for the agent's own node. */
  nodes?: SimulatedNode[];
  /** Write CRI log files for container output (default true). */
  writeLogs?: boolean;
}

export const FAKE_CAPABILITIES: RuntimeCapabilities = {
  podIP: true,
  exec: true,
  tty: false,
  portForward: false,
  resourceLimits: false,
  stats: true,
  mounts: false,
  events: true,
  persistent: false,
  images: true,
  imageStore: false,
};

/** `count` simulated nodes named `<prefix>0 … <prefix>N-1`, each with the same capacity. */
export function fakeNodes(count: number, opts: { prefix?: string; capacity?: Record<string, string> } = {}): SimulatedNode[] {
  const prefix = opts.prefix ?? "fake-node-";
  const capacity = opts.capacity ?? { cpu: "32", memory: "256Gi", pods: "110", "ephemeral-storage": "1Ti" };
  const out: SimulatedNode[] = [];
  for (let i = 0; i < count; i++) {
    const n = i + 1; // never the .0 network address
    out.push({
      name: `${prefix}${i}`,
      capacity: { ...capacity },
      address: `172.${16 + ((n >> 16) & 15)}.${(n >> 8) & 255}.${n & 255}`,
      labels: { type: "fake" },
    });
  }
  return out;
}

export class FakeRuntime implements RuntimeAdapter {
  readonly name = "fake";
  readonly capabilities = FAKE_CAPABILITIES;
  readonly simulatedNodes?: readonly SimulatedNode[];
  readonly world: FakeWorld;
  readonly #delays: FakeDelays;
  readonly #writeLogs: boolean;
  #closed = false;

  constructor(opts: FakeRuntimeOptions = {}) {
    this.world = opts.world ?? new FakeWorld();
    this.#delays = { sandboxMs: 0, startMs: 0, stopMs: 0, ...opts.delays };
    this.#writeLogs = opts.writeLogs ?? true;
    if (opts.nodes && opts.nodes.length > 0) this.simulatedNodes = opts.nodes;
  }

  async version(): Promise<{ runtimeName: string; runtimeVersion: string }> {
    return { runtimeName: "fake", runtimeVersion: "0.1.0" };
  }

  async pullImage(image: string): Promise<string> {
    return imageRef(image);
  }

  async imageStatus(image: string): Promise<{ ref: string; size: number } | null> {
    return { ref: imageRef(image), size: 0 };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    await delay(this.#delays.sandboxMs);
    const id = this.world.id("fs");
    const ip = config.hostNetwork ? undefined : this.world.ip();
    this.world.sandboxes.set(id, {
      status: {
        id,
        config: { uid: config.uid, name: config.name, namespace: config.namespace, attempt: config.attempt },
        state: "ready",
        createdAt: Date.now(),
        ...(ip ? { ip, ips: [ip] } : {}),
        // The config's own maps: the agent builds them for this call and never changes them.
        labels: config.labels,
        annotations: config.annotations,
      },
    });
    this.world.bySandbox.set(id, new Set());
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    const sb = this.world.sandboxes.get(id);
    if (!sb) return;
    await Promise.all([...(this.world.bySandbox.get(id) ?? [])].map((c) => this.stopContainer(c, 0)));
    sb.status.state = "notready";
  }

  async removePodSandbox(id: string): Promise<void> {
    if (!this.world.sandboxes.has(id)) return;
    await this.stopPodSandbox(id);
    for (const c of [...(this.world.bySandbox.get(id) ?? [])]) await this.removeContainer(c);
    this.world.sandboxes.delete(id);
    this.world.bySandbox.delete(id);
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus | null> {
    const sb = this.world.sandboxes.get(id);
    return sb ? copyStatus(sb.status) : null;
  }

  async listPodSandboxes(): Promise<PodSandboxStatus[]> {
    return [...this.world.sandboxes.values()].map((s) => copyStatus(s.status));
  }

  async createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string> {
    const sb = this.world.sandboxes.get(sandboxId);
    if (!sb) throw new Error(`sandbox ${sandboxId} not found`);
    if (sb.status.state !== "ready") throw new Error(`sandbox ${sandboxId} is not ready`);
    const behavior = behaviorOf(config, sandbox);
    const id = this.world.id("fc");
    const now = Date.now();
    this.world.containers.set(id, {
      envText: this.world.share(config.env.map((e) => `${e.name}=${e.value}\n`).join("")),
      logPath: config.logPath,
      behavior,
      ...startOutputOf(behavior, config.env),
      status: {
        id,
        podSandboxId: sandboxId,
        name: config.name,
        attempt: config.attempt,
        state: "created",
        createdAt: now,
        image: this.world.share(config.image),
        imageRef: this.world.share(imageRef(config.image)),
        logPath: config.logPath,
        // The config's own maps: the agent builds them for this call and never changes them.
        labels: config.labels,
        annotations: config.annotations,
      },
    });
    this.world.bySandbox.get(sandboxId)!.add(id);
    this.world.emit({ type: "created", containerId: id, podSandboxId: sandboxId, at: now });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.#container(id);
    if (c.status.state !== "created") throw new Error(`container ${id} is ${c.status.state}, not created`);
    await delay(this.#delays.startMs);
    if (c.status.state !== "created") throw new Error(`container ${id} was removed while starting`);
    const b = c.behavior;
    if (b.startError !== undefined) {
      this.#exit(c, 128, "StartError", b.startError);
      throw new Error(b.startError);
    }
    const now = Date.now();
    c.status.state = "running";
    c.status.startedAt = now;
    this.world.emit({ type: "started", containerId: id, podSandboxId: c.status.podSandboxId, at: now });
    if (c.startOutput) this.#log(c, "stdout", c.startOutput);
    if (b.stderr && b.stderr.length > 0) this.#log(c, "stderr", b.stderr);
    if (b.exitCode !== undefined || b.runMs !== undefined) {
      const code = b.exitCode ?? 0;
      const ms = b.runMs ?? 0;
      if (ms <= 0) this.#exit(c, code);
      else c.timer = setTimeout(() => this.#exit(c, code), ms);
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    const c = this.world.containers.get(id);
    if (!c || c.status.state === "exited") return;
    if (c.status.state === "created") {
      this.#exit(c, 0, "Error", "stopped before it started");
      return;
    }
    const exited = new Promise<void>((r) => (c.waiters ??= []).push(r));
    if (timeoutSeconds <= 0) {
      this.#exit(c, 137);
    } else if (!c.behavior.ignoreSigterm) {
      if (this.#delays.stopMs <= 0 || this.#delays.stopMs >= timeoutSeconds * 1000) {
        if (this.#delays.stopMs <= 0) this.#exit(c, 143);
        else this.#killAfter(c, timeoutSeconds * 1000, 137);
      } else {
        this.#killAfter(c, this.#delays.stopMs, 143);
      }
    } else {
      this.#killAfter(c, timeoutSeconds * 1000, 137);
    }
    await exited;
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.world.containers.get(id);
    if (!c) return;
    if (c.status.state !== "exited") this.#exit(c, 137);
    this.world.containers.delete(id);
    this.world.bySandbox.get(c.status.podSandboxId)?.delete(id);
    this.world.emit({ type: "deleted", containerId: id, podSandboxId: c.status.podSandboxId, at: Date.now() });
  }

  async containerStatus(id: string): Promise<ContainerStatus | null> {
    const c = this.world.containers.get(id);
    return c ? copyStatus(c.status) : null;
  }

  async listContainers(filter: { podSandboxId?: string } = {}): Promise<ContainerStatus[]> {
    if (filter.podSandboxId !== undefined) {
      const ids = this.world.bySandbox.get(filter.podSandboxId);
      if (!ids) return [];
      return [...ids].map((i) => copyStatus(this.world.containers.get(i)!.status));
    }
    return [...this.world.containers.values()].map((c) => copyStatus(c.status));
  }

  /**
   * A tiny shell: `echo ARGS…`, `cat` (stdin to stdout), `env`, `true`,
   * `false`, `exit N`, `sleep S`; anything else prints nothing and exits 0.
   */
  async exec(containerId: string, command: string[], opts: ExecOptions): Promise<number> {
    const c = this.#container(containerId);
    if (c.status.state !== "running") throw new Error(`container ${containerId} is not running`);
    const [cmd, ...args] = command;
    const write = async (text: string) => {
      if (!opts.stdout) return;
      const w = opts.stdout.getWriter();
      try {
        await w.write(new TextEncoder().encode(text));
      } finally {
        w.releaseLock();
      }
    };
    switch (cmd) {
      case "echo":
        await write(`${args.join(" ")}\n`);
        return 0;
      case "env":
        await write(c.envText);
        return 0;
      case "cat":
        if (opts.stdin) {
          const r = opts.stdin.getReader();
          for (;;) {
            const { done, value } = await r.read();
            if (done) break;
            if (opts.stdout) {
              const w = opts.stdout.getWriter();
              await w.write(value);
              w.releaseLock();
            }
          }
        }
        return 0;
      case "false":
        return 1;
      case "exit":
        return Number(args[0] ?? 0) & 255;
      case "sleep": {
        const ms = Number(args[0] ?? 0) * 1000;
        return await new Promise<number>((resolve) => {
          const t = setTimeout(() => resolve(0), ms);
          opts.signal?.addEventListener("abort", () => {
            clearTimeout(t);
            resolve(137);
          });
        });
      }
      default:
        return 0;
    }
  }

  async stats(containerId: string): Promise<ContainerStats | null> {
    const c = this.world.containers.get(containerId);
    if (!c || c.status.state !== "running") return null;
    const ms = Date.now() - (c.status.startedAt ?? Date.now());
    return { cpuUsageNanos: ms * 1000, memoryWorkingSetBytes: c.behavior.memoryBytes ?? 1 << 20, timestamp: Date.now() };
  }

  subscribe(listener: (event: ContainerEvent) => void): () => void {
    this.world.listeners.add(listener);
    return () => this.world.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Stops every timer and forgets everything (tests, or a plugin that owns its world). */
  destroy(): void {
    for (const c of this.world.containers.values()) clearTimeout(c.timer);
    this.world.containers.clear();
    this.world.sandboxes.clear();
    this.world.bySandbox.clear();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #container(id: string): ContainerRecord {
    const c = this.world.containers.get(id);
    if (!c) throw new Error(`container ${id} not found`);
    return c;
  }

  #killAfter(c: ContainerRecord, ms: number, code: number): void {
    clearTimeout(c.timer);
    c.timer = setTimeout(() => this.#exit(c, code), ms);
  }

  #exit(c: ContainerRecord, code: number, reason?: string, message?: string): void {
    if (c.status.state === "exited") return;
    clearTimeout(c.timer);
    const now = Date.now();
    c.status.state = "exited";
    c.status.exitCode = code;
    c.status.finishedAt = now;
    c.status.reason = reason ?? (code === 0 ? "Completed" : "Error");
    if (message !== undefined) c.status.message = message;
    const waiters = c.waiters ?? [];
    c.waiters = undefined;
    for (const w of waiters) w();
    this.world.emit({ type: "stopped", containerId: c.status.id, podSandboxId: c.status.podSandboxId, at: now });
  }

  #log(c: ContainerRecord, stream: LogStream, lines: string[]): void {
    if (!this.#writeLogs || !c.logPath) return;
    try {
      mkdirSync(dirname(c.logPath), { recursive: true });
      appendFileSync(c.logPath, formatCriRecords(Date.now(), stream, lines.map((l) => `${l}\n`).join("")));
    } catch {
      /* logs are best effort */
    }
  }
}

function imageRef(image: string): string {
  return `fake://${image}`;
}

/** The behavior's `stdout` lines, then `NAME=value` of each `echoEnv` variable (the last definition wins). */
function startOutputOf(b: FakeBehavior, env: ContainerConfig["env"]): { startOutput?: string[] } {
  if (!b.stdout?.length && !b.echoEnv?.length) return {};
  const values = new Map(env.map((e) => [e.name, e.value]));
  const out = [...(b.stdout ?? []), ...(b.echoEnv ?? []).map((n) => `${n}=${values.get(n) ?? ""}`)];
  return out.length > 0 ? { startOutput: out } : {};
}

/** A copy the caller may keep (the record itself changes later); labels and annotations never change, so they are shared. */
function copyStatus<T extends object>(s: T): T {
  return { ...s };
}

function delay(ms: number): Promise<void> | undefined {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : undefined;
}

/** The behavior for a container: its own annotation, else the pod's per-container one, else the pod's. */
export function behaviorOf(config: ContainerConfig, sandbox: Pick<PodSandboxConfig, "annotations">): FakeBehavior {
  const raw =
    config.annotations[BEHAVIOR_ANNOTATION] ??
    sandbox.annotations[`${BEHAVIOR_ANNOTATION}.${config.name}`] ??
    sandbox.annotations[BEHAVIOR_ANNOTATION];
  if (raw === undefined) return DEFAULT_BEHAVIOR;
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as FakeBehavior) : {};
  } catch {
    return {};
  }
}
