/**
 * @module DockerRuntime: the RuntimeAdapter over the Docker Engine API (see
 * README.md). A pod sandbox is a "pause" container that holds the pod's
 * network (an IP on the adapter's bridge network), its DNS config and host
 * ports; the pod's containers join its network and IPC namespaces
 * (`container:<sandbox id>`). Everything the agent passed in is kept in
 * container labels, so a fresh adapter re-adopts what an earlier one
 * started. Output is copied from Docker's log into CRI files by
 * LogFollowers.
 */
import { execFile } from "node:child_process";
import type {
  ContainerConfig,
  ContainerEvent,
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
import { dockerTime, Engine, EngineError, readJsonLines } from "./engine.ts";
import { connectTcp } from "../../core/runtime/tcp-stream.ts";
import { dockerExec } from "./exec.ts";
import { importImage, imageStatus, listImages, pullImage, removeImage } from "./images.ts";
import { encodeMap, L, labelFilter, namePart } from "./labels.ts";
import { LogFollower } from "./log-follower.ts";
import { containerStatus, type Inspect, sandboxStatus, securityContext } from "./status.ts";

/** A health check that takes longer counts as a failure. */
const STATUS_TIMEOUT_MS = 5_000;

/** Runs a command; resolves with its stdout, rejects with its stderr. */
function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: "utf8" }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(" ")}: ${stderr.trim() || err.message}`)) : resolve(stdout)));
  });
}

export { registryAuthHeader } from "./images.ts";

export interface DockerRuntimeOptions {
  /** The Engine API's unix socket. Default `/var/run/docker.sock`. */
  socketPath?: string;
  /** Labels everything this adapter creates; one dockerd can serve several instances. Default `skiff`. */
  instance?: string;
  /** The bridge network pods get their IPs from; created when missing. Default `skiff`. */
  network?: string;
  /** Its subnet when the adapter creates it. Default `10.89.0.0/16`. */
  subnet?: string;
  /** Its Linux bridge's name when the adapter creates it. Default `skiff-docker0`. */
  bridge?: string;
  /** The image sandboxes run; it must keep running and need nothing. Default `registry.k8s.io/pause:3.9`. */
  pauseImage?: string;
  /** An archive (docker-save tar) holding `pauseImage`, loaded when it is missing instead of pulling it. */
  pauseImageArchive?: string;
  /** Docker's own log of each container (json-file) is capped at this size, `max-size` syntax. Default `10m`. */
  dockerLogMaxSize?: string;
  /** Called with errors that have no caller to go to (log copying, event streams). */
  onError?: (what: string, e: unknown) => void;
}

/** Log followers by container id, shared by every adapter instance in this process (one copier per file). */
const followers = new Map<string, LogFollower>();
/** Which adapter started each follower (close stops its own). */
const owners = new WeakMap<LogFollower, DockerRuntime>();


const isNotFound = (e: unknown) => e instanceof EngineError && e.status === 404;

export class DockerRuntime implements RuntimeAdapter {
  readonly name = "docker";
  readonly capabilities: RuntimeCapabilities = {
    podIP: true,
    exec: true,
    tty: true,
    portForward: true,
    resourceLimits: true,
    stats: true,
    mounts: true,
    events: true,
    persistent: true,
    images: true,
    imageStore: true,
  };
  readonly engine: Engine;
  readonly #o: Required<Omit<DockerRuntimeOptions, "pauseImageArchive" | "onError">> & Pick<DockerRuntimeOptions, "pauseImageArchive" | "onError">;
  #network?: Promise<void>;
  #pause?: Promise<void>;
  #bridgeName?: string;
  /** Inspects of exited containers (they no longer change until we start or remove them). */
  readonly #final = new Map<string, Inspect>();
  /** Containers whose log this process already copied to the end (exited ones). */
  readonly #caughtUp = new Set<string>();
  readonly #listeners = new Set<(e: ContainerEvent) => void>();
  #events?: AbortController;
  #closed = false;

  constructor(opts: DockerRuntimeOptions = {}) {
    this.#o = {
      socketPath: opts.socketPath ?? "/var/run/docker.sock",
      instance: opts.instance ?? "skiff",
      network: opts.network ?? "skiff",
      subnet: opts.subnet ?? "10.89.0.0/16",
      bridge: opts.bridge ?? "skiff-docker0",
      pauseImage: opts.pauseImage ?? "registry.k8s.io/pause:3.9",
      dockerLogMaxSize: opts.dockerLogMaxSize ?? "10m",
      ...(opts.pauseImageArchive ? { pauseImageArchive: opts.pauseImageArchive } : {}),
      ...(opts.onError ? { onError: opts.onError } : {}),
    };
    this.engine = new Engine(this.#o.socketPath);
  }

  async version(): Promise<{ runtimeName: string; runtimeVersion: string }> {
    const v = await this.engine.json("GET", "/version");
    return { runtimeName: "docker", runtimeVersion: String(v.Version) };
  }

  /** `GET /_ping`: dockerd answers `OK` while it serves the API. */
  async status(): Promise<RuntimeHealth> {
    const r = await this.engine.request("GET", "/_ping", { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
    const body = String(r.body).trim();
    return body === "OK" ? { ready: true } : { ready: false, problems: [`container runtime not ready: /_ping answered ${JSON.stringify(body.slice(0, 100))}`] };
  }

  // ---- images ---------------------------------------------------------------

  imageStatus(image: string): Promise<{ ref: string; size: number } | null> {
    return imageStatus(this.engine, image);
  }

  pullImage(image: string, auth?: RegistryAuth): Promise<string> {
    return pullImage(this.engine, image, auth);
  }

  listImages(): Promise<ImageInfo[]> {
    return listImages(this.engine);
  }

  removeImage(image: string): Promise<void> {
    return removeImage(this.engine, image);
  }

  importImage(archivePath: string, onProgress?: (p: ImportProgress) => void): Promise<string[]> {
    return importImage(this.engine, archivePath, onProgress);
  }

  // ---- sandboxes --------------------------------------------------------------

  #ensureNetwork(): Promise<void> {
    this.#network ??= (async () => {
      try {
        await this.engine.request("GET", `/networks/${encodeURIComponent(this.#o.network)}`);
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      try {
        await this.engine.request("POST", "/networks/create", {
          body: {
            Name: this.#o.network,
            Driver: "bridge",
            CheckDuplicate: true,
            IPAM: { Config: [{ Subnet: this.#o.subnet }] },
            Options: { "com.docker.network.bridge.name": this.#o.bridge },
            Labels: { [L.instance]: this.#o.instance },
          },
        });
      } catch (e) {
        if (!(e instanceof EngineError && e.status === 409)) throw e;
      }
    })().catch((e) => {
      this.#network = undefined;
      throw e;
    });
    return this.#network;
  }

  #ensurePause(): Promise<void> {
    this.#pause ??= (async () => {
      if (await this.imageStatus(this.#o.pauseImage)) return;
      if (this.#o.pauseImageArchive) await this.importImage(this.#o.pauseImageArchive);
      else await this.pullImage(this.#o.pauseImage);
    })().catch((e) => {
      this.#pause = undefined;
      throw e;
    });
    return this.#pause;
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    await this.#ensurePause();
    if (!config.hostNetwork) await this.#ensureNetwork();
    const ports: Record<string, object[]> = {};
    const exposed: Record<string, object> = {};
    for (const p of config.portMappings) {
      if (!p.hostPort) continue;
      const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
      exposed[key] = {};
      (ports[key] ??= []).push({ HostPort: String(p.hostPort) });
    }
    const name = `skiff_POD_${namePart(config.namespace)}_${namePart(config.name)}_${config.uid.slice(0, 8)}_${config.attempt}_${Math.random().toString(16).slice(2, 8)}`;
    const { Id: id } = await this.engine.json("POST", "/containers/create", {
      query: { name },
      body: {
        Image: this.#o.pauseImage,
        ...(config.hostNetwork ? {} : { Hostname: config.hostname.slice(0, 63) }),
        Labels: {
          [L.instance]: this.#o.instance,
          [L.kind]: "sandbox",
          [L.podUid]: config.uid,
          [L.podName]: config.name,
          [L.podNamespace]: config.namespace,
          [L.attempt]: String(config.attempt),
          [L.labels]: encodeMap(config.labels),
          [L.annotations]: encodeMap(config.annotations),
          [L.hostNetwork]: String(config.hostNetwork),
        },
        ExposedPorts: exposed,
        HostConfig: {
          NetworkMode: config.hostNetwork ? "host" : this.#o.network,
          PortBindings: config.hostNetwork ? {} : ports,
          IpcMode: "shareable",
          ...(config.dns ? { Dns: config.dns.servers, DnsSearch: config.dns.searches, DnsOptions: config.dns.options } : {}),
          LogConfig: { Type: "json-file", Config: { "max-size": "1m" } },
        },
      },
    });
    try {
      await this.engine.request("POST", `/containers/${id}/start`);
    } catch (e) {
      await this.engine.request("DELETE", `/containers/${id}`, { query: { force: 1 } }).catch(() => undefined);
      throw e;
    }
    if (!config.hostNetwork) await this.#hairpin();
    return id;
  }

  /**
   * Puts every port of the pods' bridge in hairpin mode, so a pod reaches
   * itself through its own Service's ClusterIP (the proxy's DNAT sends the
   * packet back out of the port it came in by). dockerd does this only with
   * `--userland-proxy=false`, a daemon-wide choice; CNI's bridge plugin has
   * `hairpinMode`. Needs root; without it (or `ip`), pods still run.
   */
  async #hairpin(): Promise<void> {
    if (process.getuid?.() !== 0) return;
    try {
      this.#bridgeName ??= await (async () => {
        const net = await this.engine.json<{ Id?: string; Options?: Record<string, string> }>("GET", `/networks/${encodeURIComponent(this.#o.network)}`);
        return net.Options?.["com.docker.network.bridge.name"] ?? `br-${(net.Id ?? "").slice(0, 12)}`;
      })();
      // One listing with details (a line per port, with its `hairpin on|off`), then one call per port still off:
      // asking each port separately made every new pod cost a process per pod already on the bridge.
      const ports = await run("ip", ["-d", "-o", "link", "show", "master", this.#bridgeName]);
      for (const line of ports.split("\n")) {
        const m = /^\d+: ([^:@\s]+)[@:]/.exec(line);
        if (m && !/ hairpin on\b/.test(line)) await run("ip", ["link", "set", "dev", m[1]!, "type", "bridge_slave", "hairpin", "on"]);
      }
    } catch (e) {
      this.#o.onError?.("putting the pod bridge's ports in hairpin mode (pods cannot reach themselves through a Service)", e);
    }
  }

  async #ours(id: string, kind: "sandbox" | "container"): Promise<Inspect | null> {
    if (!id || !/^[0-9a-f]{12,64}$/.test(id)) return null;
    const cached = kind === "container" ? this.#final.get(id) : undefined;
    if (cached) return cached;
    let i: Inspect;
    try {
      i = await this.engine.json("GET", `/containers/${id}/json`);
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
    const labels = i.Config?.Labels ?? {};
    if (i.Id !== id || labels[L.instance] !== this.#o.instance || labels[L.kind] !== kind) return null;
    return i;
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus | null> {
    const i = await this.#ours(id, "sandbox");
    return i ? sandboxStatus(i, this.#o.network) : null;
  }

  async #listIds(labels: Record<string, string>): Promise<string[]> {
    const list: any[] = await this.engine.json("GET", "/containers/json", { query: { all: 1, filters: labelFilter({ [L.instance]: this.#o.instance, ...labels }) } });
    return list.map((c) => c.Id);
  }

  async listPodSandboxes(): Promise<PodSandboxStatus[]> {
    const ids = await this.#listIds({ [L.kind]: "sandbox" });
    const all = await Promise.all(ids.map((id) => this.podSandboxStatus(id)));
    return all.filter((s): s is PodSandboxStatus => s !== null);
  }

  async stopPodSandbox(id: string): Promise<void> {
    const sb = await this.#ours(id, "sandbox");
    if (!sb) return;
    const ids = await this.#listIds({ [L.kind]: "container", [L.sandbox]: id });
    await Promise.all(ids.map((c) => this.stopContainer(c, 0)));
    await this.#kill(id);
  }

  async removePodSandbox(id: string): Promise<void> {
    const sb = await this.#ours(id, "sandbox");
    if (!sb) return;
    const ids = await this.#listIds({ [L.kind]: "container", [L.sandbox]: id });
    await Promise.all(ids.map((c) => this.removeContainer(c)));
    await this.#remove(id);
  }

  // ---- containers -------------------------------------------------------------

  async createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string> {
    const sb = await this.#ours(sandboxId, "sandbox");
    if (!sb) throw new Error(`pod sandbox ${sandboxId} not found`);
    if (!sb.State.Running) throw new Error(`pod sandbox ${sandboxId} is not ready`);
    const r = config.resources;
    const name = `skiff_${namePart(config.name)}_${namePart(sandbox.namespace)}_${namePart(sandbox.name)}_${sandbox.uid.slice(0, 8)}_${config.attempt}_${Math.random().toString(16).slice(2, 8)}`;
    const { Id: id } = await this.engine.json("POST", "/containers/create", {
      query: { name },
      body: {
        Image: config.image,
        // Kubernetes' command replaces the image's ENTRYPOINT (and drops its CMD), args replace its CMD.
        ...(config.command.length ? { Entrypoint: config.command } : {}),
        ...(config.args.length ? { Cmd: config.args } : config.command.length ? { Cmd: null } : {}),
        Env: config.env.map((e) => `${e.name}=${e.value}`),
        ...(config.workingDir ? { WorkingDir: config.workingDir } : {}),
        Tty: config.tty,
        OpenStdin: config.stdin,
        StdinOnce: config.stdinOnce,
        Labels: {
          [L.instance]: this.#o.instance,
          [L.kind]: "container",
          [L.sandbox]: sandboxId,
          [L.podUid]: sandbox.uid,
          [L.podName]: sandbox.name,
          [L.podNamespace]: sandbox.namespace,
          [L.name]: config.name,
          [L.attempt]: String(config.attempt),
          [L.labels]: encodeMap(config.labels),
          [L.annotations]: encodeMap(config.annotations),
          [L.logPath]: config.logPath,
        },
        HostConfig: {
          NetworkMode: `container:${sandboxId}`,
          IpcMode: `container:${sandboxId}`,
          Binds: config.mounts.map((m) => `${m.hostPath}:${m.containerPath}${m.readOnly ? ":ro" : ""}`),
          ...(r.cpuMillis ? { NanoCpus: r.cpuMillis * 1_000_000 } : {}),
          ...(r.cpuRequestMillis ? { CpuShares: Math.max(2, Math.floor((r.cpuRequestMillis * 1024) / 1000)) } : {}),
          ...(r.memoryBytes ? { Memory: r.memoryBytes } : {}),
          LogConfig: { Type: "json-file", Config: { "max-size": this.#o.dockerLogMaxSize, "max-file": "2" } },
          ...securityContext(config).host,
        },
        ...securityContext(config).config,
      },
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    this.#final.delete(id);
    this.#caughtUp.delete(id);
    try {
      await this.engine.request("POST", `/containers/${id}/start`);
    } finally {
      const i = await this.#ours(id, "container").catch(() => null);
      if (i) this.#follow(i);
    }
  }

  /** Makes sure a LogFollower copies this container's output (following it while it runs). */
  #follow(i: Inspect): void {
    const logPath = i.Config.Labels[L.logPath];
    if (!logPath || this.#closed) return;
    const running = i.State.Running || i.State.Restarting;
    if (followers.has(i.Id) || (!running && this.#caughtUp.has(i.Id))) return;
    if (!running && i.State.Status === "created" && !i.State.Error) return;
    if (!running) this.#caughtUp.add(i.Id);
    const f = new LogFollower({
      engine: this.engine,
      containerId: i.Id,
      logPath,
      tty: !!i.Config.Tty,
      follow: running,
      onError: (e) => this.#o.onError?.(`copying the log of ${i.Id}`, e),
    });
    followers.set(i.Id, f);
    owners.set(f, this);
    void f.done.then(() => {
      if (followers.get(i.Id) !== f) return;
      followers.delete(i.Id);
      // The stream of a running container ends when it stops: its log is complete.
      if (!this.#closed) this.#caughtUp.add(i.Id);
    });
  }

  async #kill(id: string): Promise<void> {
    try {
      await this.engine.request("POST", `/containers/${id}/kill`);
    } catch (e) {
      // 409: not running.
      if (!(e instanceof EngineError && (e.status === 404 || e.status === 409))) throw e;
    }
    await this.engine.request("POST", `/containers/${id}/wait`, { query: { condition: "not-running" } }).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    const i = await this.#ours(id, "container");
    if (!i) return;
    if (!i.State.Running) return;
    if (timeoutSeconds <= 0) await this.#kill(id);
    else {
      try {
        await this.engine.request("POST", `/containers/${id}/stop`, { query: { t: Math.ceil(timeoutSeconds) } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    // Let the copier finish so the last lines are in the file when the agent reads it.
    await Promise.race([followers.get(id)?.done, new Promise((r) => setTimeout(r, 2000))]);
  }

  async #remove(id: string): Promise<void> {
    try {
      await this.engine.request("DELETE", `/containers/${id}`, { query: { force: 1, v: 1 } });
    } catch (e) {
      // 409: removal already in progress.
      if (!(e instanceof EngineError && (e.status === 404 || e.status === 409))) throw e;
    }
  }

  async removeContainer(id: string): Promise<void> {
    const i = await this.#ours(id, "container");
    this.#final.delete(id);
    this.#caughtUp.delete(id);
    if (!i) return;
    await this.#remove(id);
    followers.get(id)?.stop();
    followers.delete(id);
  }

  async containerStatus(id: string): Promise<ContainerStatus | null> {
    const i = await this.#ours(id, "container");
    if (!i) return null;
    const s = containerStatus(i);
    if (s.state === "exited") this.#final.set(id, i);
    this.#follow(i);
    return s;
  }

  async listContainers(filter?: { podSandboxId?: string }): Promise<ContainerStatus[]> {
    const ids = await this.#listIds({ [L.kind]: "container", ...(filter?.podSandboxId ? { [L.sandbox]: filter.podSandboxId } : {}) });
    const all = await Promise.all(ids.map((id) => this.containerStatus(id)));
    return all.filter((s): s is ContainerStatus => s !== null);
  }

  // ---- streaming, stats, events -------------------------------------------------

  async exec(containerId: string, command: string[], opts: ExecOptions): Promise<number> {
    const i = await this.#ours(containerId, "container");
    if (!i) throw new Error(`container ${containerId} not found`);
    return dockerExec(this.engine, containerId, command, opts);
  }

  async portForward(sandboxId: string, port: number): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }> {
    const sb = await this.#ours(sandboxId, "sandbox");
    if (!sb) throw new Error(`pod sandbox ${sandboxId} not found`);
    if (!sb.State.Running) throw new Error(`pod sandbox ${sandboxId} is not ready`);
    const host = sb.Config.Labels[L.hostNetwork] === "true" ? "127.0.0.1" : sb.NetworkSettings?.Networks?.[this.#o.network]?.IPAddress;
    if (!host) throw new Error(`pod sandbox ${sandboxId} has no IP`);
    return connectTcp(host, port);
  }

  async stats(containerId: string): Promise<ContainerStats | null> {
    const i = await this.#ours(containerId, "container");
    if (!i?.State.Running) return null;
    const s = await this.engine.json("GET", `/containers/${containerId}/stats`, { query: { stream: 0, "one-shot": 1 } });
    const mem = s.memory_stats ?? {};
    const inactive = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file ?? 0;
    return {
      cpuUsageNanos: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
      memoryWorkingSetBytes: Math.max(0, (mem.usage ?? 0) - inactive),
      timestamp: dockerTime(s.read) ?? Date.now(),
    };
  }

  subscribe(listener: (event: ContainerEvent) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#events) this.#watchEvents(Date.now());
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#events?.abort();
        this.#events = undefined;
      }
    };
  }

  /** One `/events` stream for all listeners, from `sinceMs` (so nothing between subscribe and connect is missed); reconnects. */
  #watchEvents(sinceMs: number): void {
    const ac = new AbortController();
    this.#events = ac;
    let last = sinceMs;
    const types: Record<string, ContainerEvent["type"]> = { create: "created", start: "started", die: "stopped", destroy: "deleted" };
    void (async () => {
      while (!ac.signal.aborted) {
        try {
          const res = await this.engine.open("GET", "/events", {
            query: {
              since: (last / 1000).toFixed(3),
              filters: JSON.stringify({ type: ["container"], label: [`${L.instance}=${this.#o.instance}`, `${L.kind}=container`], event: Object.keys(types) }),
            },
            signal: ac.signal,
          });
          await readJsonLines(res, (e) => {
            const type = types[e.Action ?? e.status];
            const at = e.timeNano ? Math.floor(e.timeNano / 1e6) : e.time * 1000;
            last = Math.max(last, at + 1);
            if (!type) return;
            if (type === "stopped" || type === "deleted") this.#final.delete(e.id);
            const ev: ContainerEvent = { type, containerId: e.id, podSandboxId: e.Actor?.Attributes?.[L.sandbox] ?? "", at };
            for (const l of this.#listeners) l(ev);
          });
        } catch (e) {
          if (ac.signal.aborted) return;
          this.#o.onError?.("watching docker events", e);
        }
        if (!ac.signal.aborted) await new Promise((r) => setTimeout(r, 1000));
      }
    })();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#events?.abort();
    this.#events = undefined;
    this.#listeners.clear();
    for (const [id, f] of followers) {
      if (owners.get(f) !== this) continue;
      f.stop();
      followers.delete(id);
    }
    this.engine.close();
  }

  /** Removes every sandbox and container of this instance (tests, temporary setups). */
  async removeAll(): Promise<void> {
    for (const id of await this.#listIds({})) await this.#remove(id);
  }
}
