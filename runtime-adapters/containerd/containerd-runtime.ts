/**
 * @module `ContainerdRuntime`: the RuntimeAdapter over containerd's CRI
 * (`runtime.v1`), driven the way the kubelet drives it — sandboxes with CNI
 * networking, containers, images through the ImageService, ExecSync, stats.
 * What CRI lacks comes from containerd's own client `ctr` on the same socket:
 * image import and exec with stdin or a TTY (see README.md for why).
 *
 * All state lives in containerd, so a fresh instance over the same socket
 * sees everything (re-adoption). Sandboxes carry an owner label so that one
 * containerd can be shared with other CRI clients: this adapter lists and
 * manages only its own.
 */
import { relative } from "node:path";
import type {
  ContainerConfig,
  ContainerStats,
  ContainerStatus,
  ExecOptions,
  ImageInfo,
  ImportProgress,
  PodSandboxConfig,
  PodSandboxStatus,
  RegistryAuth,
  RuntimeAdapter,
  RuntimeCapabilities,
  RuntimeHealth,
} from "../../core/runtime/adapter.ts";
import { CriClient, CriError, type Msg, nsToMs, orGone } from "./cri-client.ts";
import { connectTcp } from "../../core/runtime/tcp-stream.ts";
import { ctrExec, ctrImport, type CtrTarget } from "./streams.ts";

export interface ContainerdRuntimeOptions {
  /** containerd's gRPC socket. */
  socket: string;
  /** The `ctr` binary (import, exec with stdin/TTY). Default `ctr`. */
  ctr?: string;
  /** Parent cgroup of pods (cgroupfs syntax); empty: containerd's default. */
  cgroupParent?: string;
  /** Value of the owner label on sandboxes this adapter creates and lists. Default `skiff`. */
  owner?: string;
  /** Per-call deadline in ms (pulls get at least 10 minutes). Default 120 s. */
  timeoutMs?: number;
  /**
   * Every pod shares one PID namespace (as `shareProcessNamespace: true`):
   * the sandbox's pause process is PID 1, so a container's main process gets
   * default signal dispositions instead of PID 1's "ignore what has no
   * handler". Default false (a PID namespace per container, as the kubelet).
   */
  sharePidNamespace?: boolean;
}

/** Label on every sandbox this adapter creates; never shown to the caller. */
export const OWNER_LABEL = "skiff.dev/runtime-owner";
/** Annotation keeping the image name the caller asked for (CRI reports the image's first tag instead). */
const IMAGE_ANNOTATION = "skiff.dev/image";
/** CRI's namespace in containerd. */
const CRI_NAMESPACE = "k8s.io";
const PULL_TIMEOUT_MS = 10 * 60_000;
/** A health check that takes longer counts as a failure. */
const STATUS_TIMEOUT_MS = 5_000;

const STATES: Record<string, ContainerStatus["state"]> = {
  CONTAINER_CREATED: "created",
  CONTAINER_RUNNING: "running",
  CONTAINER_EXITED: "exited",
  CONTAINER_UNKNOWN: "unknown",
};

function without(map: Record<string, string> | undefined, key: string): Record<string, string> {
  const { [key]: _, ...rest } = map ?? {};
  return rest;
}

/** kubelet's milliCPUToShares: 1024 shares per CPU, at least 2. */
export function cpuShares(millis: number | undefined): number {
  if (!millis) return 2;
  return Math.max(2, Math.floor((millis * 1024) / 1000));
}

export class ContainerdRuntime implements RuntimeAdapter {
  readonly name = "containerd";
  readonly capabilities: RuntimeCapabilities;
  readonly #cri: CriClient;
  readonly #ctr: CtrTarget;
  readonly #owner: string;
  readonly #cgroupParent: string;
  readonly #pid: "POD" | "CONTAINER";

  constructor(readonly opts: ContainerdRuntimeOptions) {
    this.#cri = new CriClient(opts.socket, { ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
    this.#ctr = { socket: opts.socket, namespace: CRI_NAMESPACE, ctr: opts.ctr ?? "ctr" };
    this.#owner = opts.owner ?? "skiff";
    this.#cgroupParent = opts.cgroupParent ?? "";
    this.#pid = opts.sharePidNamespace ? "POD" : "CONTAINER";
    this.capabilities = {
      podIP: true,
      exec: true,
      // A TTY needs a pseudo-terminal for ctr, which only Bun gives us.
      tty: typeof (globalThis as { Bun?: unknown }).Bun !== "undefined",
      portForward: true,
      resourceLimits: true,
      stats: true,
      mounts: true,
      // containerd 1.6 does not implement CRI GetContainerEvents (1.7 does).
      events: false,
      persistent: true,
      images: true,
      imageStore: true,
    };
  }

  async version(): Promise<{ runtimeName: string; runtimeVersion: string }> {
    const v = await this.#cri.runtime("Version", { version: "v1" });
    return { runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion };
  }

  /** CRI `Status`: not ready when RuntimeReady or NetworkReady is false (the kubelet's wording for each). */
  async status(): Promise<RuntimeHealth> {
    const s = await this.#cri.runtime("Status", {}, { timeoutMs: STATUS_TIMEOUT_MS });
    const conditions: { type: string; status: boolean; reason: string; message: string }[] = s.status?.conditions ?? [];
    const problems: string[] = [];
    for (const [type, what] of [
      ["RuntimeReady", "container runtime not ready"],
      ["NetworkReady", "container runtime network not ready"],
    ] as const) {
      const c = conditions.find((x) => x.type === type);
      if (!c) problems.push(`${what}: ${type} condition missing`);
      else if (!c.status) problems.push(`${what}: ${type}=false reason:${c.reason} message:${c.message}`);
    }
    return problems.length > 0 ? { ready: false, problems } : { ready: true };
  }

  // ---- images -------------------------------------------------------------------

  async pullImage(image: string, auth?: RegistryAuth): Promise<string> {
    const req: Msg = { image: { image } };
    if (auth) {
      req.auth = {
        // containerd 1.6 parses it as a URL and compares its host with the registry's.
        serverAddress: /^[a-z][a-z0-9+.-]*:\/\//i.test(auth.serverAddress) ? auth.serverAddress : `https://${auth.serverAddress}`,
        username: auth.username ?? "",
        password: auth.password ?? "",
        auth: auth.auth ?? "",
        identityToken: auth.identityToken ?? "",
        registryToken: auth.registryToken ?? "",
      };
    }
    const r = await this.#cri.image("PullImage", req, { timeoutMs: Math.max(PULL_TIMEOUT_MS, this.opts.timeoutMs ?? 0) });
    return r.imageRef;
  }

  async imageStatus(image: string): Promise<{ ref: string; size: number } | null> {
    const r = await orGone(this.#cri.image("ImageStatus", { image: { image } }));
    const img = r?.image;
    return img?.id ? { ref: img.id, size: Number(img.size) } : null;
  }

  async listImages(): Promise<ImageInfo[]> {
    const r = await this.#cri.image("ListImages", {});
    return (r.images as Msg[]).map((i) => ({ ref: i.id, tags: [...(i.repoTags ?? [])], size: Number(i.size) }));
  }

  async removeImage(image: string): Promise<void> {
    await orGone(this.#cri.image("RemoveImage", { image: { image } }));
  }

  async importImage(archivePath: string, onProgress?: (p: ImportProgress) => void): Promise<string[]> {
    const names = await ctrImport(this.#ctr, archivePath, onProgress);
    // CRI learns about images from containerd's events: wait until it sees them.
    const deadline = Date.now() + 10_000;
    for (const n of names) {
      while (!(await this.imageStatus(n))) {
        if (Date.now() > deadline) throw new Error(`imported ${n}, but CRI does not see it`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    return names;
  }

  // ---- sandboxes ------------------------------------------------------------------

  #criSandboxConfig(config: PodSandboxConfig, privileged = false): Msg {
    return {
      metadata: { name: config.name, uid: config.uid, namespace: config.namespace, attempt: config.attempt },
      hostname: config.hostNetwork ? "" : config.hostname,
      logDirectory: config.logDirectory,
      ...(config.dns ? { dnsConfig: { servers: config.dns.servers, searches: config.dns.searches, options: config.dns.options } } : {}),
      portMappings: config.portMappings
        .filter((p) => p.hostPort)
        .map((p) => ({ protocol: p.protocol, containerPort: p.containerPort, hostPort: p.hostPort })),
      labels: { ...config.labels, [OWNER_LABEL]: this.#owner },
      annotations: config.annotations,
      linux: {
        cgroupParent: this.#cgroupParent,
        securityContext: {
          namespaceOptions: { network: config.hostNetwork ? "NODE" : "POD", pid: this.#pid, ipc: "POD" },
          privileged,
        },
      },
    };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const r = await this.#cri.runtime("RunPodSandbox", { config: this.#criSandboxConfig(config) });
    return r.podSandboxId;
  }

  async stopPodSandbox(id: string): Promise<void> {
    await orGone(this.#cri.runtime("StopPodSandbox", { podSandboxId: id }));
  }

  async removePodSandbox(id: string): Promise<void> {
    await orGone(this.#cri.runtime("StopPodSandbox", { podSandboxId: id }));
    await orGone(this.#cri.runtime("RemovePodSandbox", { podSandboxId: id }));
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus | null> {
    const r = await orGone(this.#cri.runtime("PodSandboxStatus", { podSandboxId: id }));
    if (!r?.status || r.status.labels?.[OWNER_LABEL] !== this.#owner) return null;
    return this.#sandbox(r.status);
  }

  #sandbox(s: Msg): PodSandboxStatus {
    const ips = [s.network?.ip, ...((s.network?.additionalIps ?? []) as Msg[]).map((x) => x.ip)].filter((x): x is string => !!x);
    return {
      id: s.id,
      config: { uid: s.metadata.uid, name: s.metadata.name, namespace: s.metadata.namespace, attempt: s.metadata.attempt },
      state: s.state === "SANDBOX_READY" ? "ready" : "notready",
      createdAt: nsToMs(s.createdAt) ?? 0,
      ...(ips.length ? { ip: ips[0]!, ips } : {}),
      labels: without(s.labels, OWNER_LABEL),
      annotations: { ...s.annotations },
    };
  }

  async listPodSandboxes(): Promise<PodSandboxStatus[]> {
    const r = await this.#cri.runtime("ListPodSandbox", { filter: { labelSelector: { [OWNER_LABEL]: this.#owner } } });
    const all = await Promise.all((r.items as Msg[]).map((s) => this.podSandboxStatus(s.id)));
    return all.filter((s): s is PodSandboxStatus => s !== null);
  }

  // ---- containers -----------------------------------------------------------------

  async createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string> {
    const res = config.resources;
    const sc = config.securityContext;
    const linux: Msg = {
      resources: {
        cpuShares: cpuShares(res.cpuRequestMillis ?? res.cpuMillis),
        ...(res.cpuMillis ? { cpuPeriod: 100_000, cpuQuota: res.cpuMillis * 100 } : {}),
        ...(res.memoryBytes ? { memoryLimitInBytes: res.memoryBytes } : {}),
      },
      securityContext: {
        namespaceOptions: { network: sandbox.hostNetwork ? "NODE" : "POD", pid: this.#pid, ipc: "POD" },
        ...(sc?.runAsUser !== undefined ? { runAsUser: { value: sc.runAsUser } } : {}),
        ...(sc?.runAsGroup !== undefined ? { runAsGroup: { value: sc.runAsGroup } } : {}),
        readonlyRootfs: sc?.readOnlyRootFilesystem ?? false,
        privileged: sc?.privileged ?? false,
        ...(sc?.capabilities ? { capabilities: { addCapabilities: sc.capabilities.add ?? [], dropCapabilities: sc.capabilities.drop ?? [] } } : {}),
      },
    };
    const logPath = relative(sandbox.logDirectory, config.logPath);
    const req = {
      podSandboxId: sandboxId,
      config: {
        metadata: { name: config.name, attempt: config.attempt },
        image: { image: config.image },
        command: config.command,
        args: config.args,
        workingDir: config.workingDir ?? "",
        envs: config.env.map((e) => ({ key: e.name, value: e.value })),
        mounts: config.mounts.map((m) => ({ containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readOnly })),
        labels: config.labels,
        annotations: { ...config.annotations, [IMAGE_ANNOTATION]: config.image },
        logPath: logPath.startsWith("..") ? config.logPath : logPath,
        stdin: config.stdin,
        stdinOnce: config.stdinOnce,
        tty: config.tty,
        linux,
      },
      // CRI checks a privileged container against the sandbox config it is given here.
      sandboxConfig: this.#criSandboxConfig(sandbox, sc?.privileged ?? false),
    };
    const r = await this.#cri.runtime("CreateContainer", req);
    return r.containerId;
  }

  async startContainer(id: string): Promise<void> {
    await this.#cri.runtime("StartContainer", { containerId: id });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await orGone(this.#cri.runtime("StopContainer", { containerId: id, timeout: timeoutSeconds }, { timeoutMs: (timeoutSeconds + 60) * 1000 }));
  }

  async removeContainer(id: string): Promise<void> {
    const s = await orGone(this.#cri.runtime("ContainerStatus", { containerId: id }));
    if (!s) return;
    if (s.status?.state === "CONTAINER_RUNNING" || s.status?.state === "CONTAINER_UNKNOWN") await this.stopContainer(id, 0);
    await orGone(this.#cri.runtime("RemoveContainer", { containerId: id }));
  }

  async containerStatus(id: string): Promise<ContainerStatus | null> {
    return this.#containerStatus(id, true);
  }

  async #containerStatus(id: string, verbose: boolean, podSandboxId?: string): Promise<ContainerStatus | null> {
    const r = await orGone(this.#cri.runtime("ContainerStatus", { containerId: id, verbose }));
    const s = r?.status;
    if (!s) return null;
    let sandboxId = podSandboxId;
    let pid: number | undefined;
    if (r.info?.info) {
      try {
        const info = JSON.parse(r.info.info) as { sandboxID?: string; pid?: number };
        sandboxId ??= info.sandboxID;
        if (info.pid) pid = info.pid;
      } catch {
        /* not JSON */
      }
    }
    sandboxId ??= await this.#sandboxOf(id);
    const state = STATES[s.state] ?? "unknown";
    const startedAt = nsToMs(s.startedAt);
    const finishedAt = nsToMs(s.finishedAt);
    const annotations = without(s.annotations, IMAGE_ANNOTATION);
    return {
      id: s.id,
      podSandboxId: sandboxId ?? "",
      name: s.metadata.name,
      attempt: s.metadata.attempt,
      state,
      createdAt: nsToMs(s.createdAt) ?? 0,
      ...(startedAt ? { startedAt } : {}),
      ...(state === "exited" ? { finishedAt: finishedAt ?? startedAt ?? 0, exitCode: s.exitCode } : {}),
      ...(s.reason ? { reason: s.reason } : {}),
      ...(s.message ? { message: s.message } : {}),
      image: s.annotations?.[IMAGE_ANNOTATION] ?? s.image?.image ?? "",
      imageRef: s.imageRef,
      logPath: s.logPath,
      labels: { ...s.labels },
      annotations,
      ...(pid ? { info: { pid: String(pid) } } : {}),
    };
  }

  async #sandboxOf(id: string): Promise<string | undefined> {
    const r = await this.#cri.runtime("ListContainers", { filter: { id } });
    return (r.containers as Msg[])[0]?.podSandboxId;
  }

  async listContainers(filter: { podSandboxId?: string } = {}): Promise<ContainerStatus[]> {
    let sandboxes: Set<string> | undefined;
    if (!filter.podSandboxId) {
      const own = await this.#cri.runtime("ListPodSandbox", { filter: { labelSelector: { [OWNER_LABEL]: this.#owner } } });
      sandboxes = new Set((own.items as Msg[]).map((s) => s.id as string));
    }
    const r = await this.#cri.runtime("ListContainers", { filter: filter.podSandboxId ? { podSandboxId: filter.podSandboxId } : {} });
    const mine = (r.containers as Msg[]).filter((c) => !sandboxes || sandboxes.has(c.podSandboxId));
    const all = await Promise.all(mine.map((c) => this.#containerStatus(c.id, false, c.podSandboxId)));
    return all.filter((c): c is ContainerStatus => c !== null);
  }

  async reopenContainerLog(id: string): Promise<void> {
    await orGone(this.#cri.runtime("ReopenContainerLog", { containerId: id }));
  }

  // ---- streaming and stats ----------------------------------------------------------

  async exec(containerId: string, command: string[], opts: ExecOptions): Promise<number> {
    if (opts.stdin || opts.tty) return ctrExec(this.#ctr, containerId, command, opts);
    try {
      const r = await this.#cri.runtime("ExecSync", { containerId, cmd: command, timeout: 0 }, { timeoutMs: 0, ...(opts.signal ? { signal: opts.signal } : {}) });
      await write(opts.stdout, r.stdout);
      await write(opts.stderr, r.stderr);
      return r.exitCode;
    } catch (e) {
      if (opts.signal?.aborted && e instanceof CriError) return 137;
      throw e;
    }
  }

  /**
   * Connects to `port` on the sandbox's IP from the node (the CNI bridge
   * routes there; 127.0.0.1 for host-network sandboxes). Listeners bound to
   * the pod's loopback only are not reachable this way.
   */
  async portForward(sandboxId: string, port: number): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }> {
    const s = await this.podSandboxStatus(sandboxId);
    if (!s) throw new Error(`no sandbox ${sandboxId}`);
    if (s.state !== "ready") throw new Error(`sandbox ${sandboxId} is not ready`);
    return connectTcp(s.ip ?? "127.0.0.1", port);
  }

  async stats(containerId: string): Promise<ContainerStats | null> {
    const st = await this.#containerStatus(containerId, false, "-");
    if (st?.state !== "running") return null;
    const r = await orGone(this.#cri.runtime("ContainerStats", { containerId }));
    const s = r?.stats;
    if (!s?.cpu && !s?.memory) return null;
    const ts = nsToMs(s.cpu?.timestamp ?? s.memory?.timestamp) ?? Date.now();
    return {
      cpuUsageNanos: Number(s.cpu?.usageCoreNanoSeconds?.value ?? 0),
      memoryWorkingSetBytes: Number(s.memory?.workingSetBytes?.value ?? 0),
      timestamp: ts,
    };
  }

  async close(): Promise<void> {
    this.#cri.close();
  }
}

async function write(to: WritableStream<Uint8Array> | undefined, data: Buffer | undefined): Promise<void> {
  if (!to || !data || data.length === 0) return;
  const w = to.getWriter();
  try {
    await w.write(new Uint8Array(data));
  } finally {
    w.releaseLock();
  }
}
