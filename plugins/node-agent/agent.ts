/**
 * @module The node agent: acts for one node (its own), or for every node a
 * simulating runtime declares (fake nodes) — one informer, one work queue,
 * one lease renewer and one status writer serve them all, so a simulated
 * node costs a Node, a Lease and a few map entries.
 *
 * Start: register the Node(s) (create, or adopt the existing one) and their
 * Leases; re-adopt what the runtime already runs (sandboxes carry the pod
 * uid); watch only pods bound to our node(s); one PodWorker per pod, synced
 * from a work queue keyed by pod uid. Runtime events and a periodic relist
 * (the kubelet's PLEG) poke the worker of a pod whose containers changed.
 * Pods the runtime runs that the API no longer has are removed.
 *
 * Runtime health, as the kubelet's runtime state: the runtime's `status()`
 * (or `version()`) is checked every `runtimeHealthSeconds`; while it fails
 * (the daemon died) or the relist has not succeeded for `plegThresholdSeconds`,
 * the node reports Ready=False / KubeletNotReady with the kubelet's messages
 * (`container runtime is down`, `PLEG is not healthy: …`). Pod syncs fail and
 * retry meanwhile; when the runtime answers again the node turns Ready and
 * every pod is resynced.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errors, isApiError } from "../../core/api/errors.ts";
import { EventRecorder } from "../../core/client/events.ts";
import type { Client, Informer } from "../../core/client/types.ts";
import type { Logger } from "../../core/log.ts";
import type { EventSink, PluginContext } from "../../core/plugin/types.ts";
import type { ContainerStatus, ExecOptions, PodSandboxStatus, RuntimeAdapter, RuntimeHealth } from "../../core/runtime/adapter.ts";
import { CrashBackoff } from "./backoff.ts";
import { secretData } from "./container-spec.ts";
import { LeaseRenewer } from "./lease.ts";
import { type LogOptions, readLog, rotateLog } from "./logs.ts";
import { byName } from "./pod-status.ts";
import { allocatableOf, localNode, type NodeIdentity, nodeObject, nodeStatus, nodeStatusDiffers, simulatedNode } from "./node-status.ts";
import { PodWorker, type WorkerDeps } from "./pod-worker.ts";
import { ServiceAccountTokenManager } from "./service-account-tokens.ts";
import { StatusManager } from "./status-manager.ts";
import { configMapsRef, type Node, type NodeTaint, nodesRef, type Pod, podsRef, secretsRef } from "./types.ts";

export interface NodeAgentConfig {
  /** Pods' volumes and logs; default `<data dir>/agent`, or a temporary directory removed at stop. */
  rootDir?: string;
  maxPods: number;
  /** Pod syncs running at once. */
  workers: number;
  leaseDurationSeconds: number;
  /** How often node status is computed; it is written when it changed or every `nodeStatusReportSeconds`. */
  nodeStatusUpdateSeconds: number;
  nodeStatusReportSeconds: number;
  /** Full runtime relist period (seconds); runtimes with events are relisted 10 times less often. */
  relistSeconds: number;
  /** How often the runtime's health is checked (`status()`, else `version()`). */
  runtimeHealthSeconds: number;
  /** The node turns NotReady (`PLEG is not healthy`) when no relist succeeded for this long; the kubelet's 3 minutes. */
  plegThresholdSeconds: number;
  backoff: { initialSeconds: number; maxSeconds: number };
  /**
   * What happens to pods when the agent stops gracefully: `auto` = kept by a
   * standalone agent (`skiff agent`), removed by an all-in-one server or an
   * agent without a data dir.
   */
  stopPodsOnExit: "auto" | "always" | "never";
  /** Normal pod events (Pulled, Created, Started, Killing): `auto` = on unless nodes are simulated. */
  normalEvents: "auto" | "on" | "off";
  nodeIP?: string;
  labels: Record<string, string>;
  taints: NodeTaint[];
  /** Container logs are rotated above this size, keeping this many files. */
  containerLogMaxBytes: number;
  containerLogMaxFiles: number;
  /** Status writes in flight at once. */
  statusConcurrency: number;
  /** The agent's own HTTP endpoint (logs, exec, port-forward), as the kubelet's port 10250. */
  server: { enabled: boolean; address: string; port: number; token?: string; tls?: { cert: string; key: string; ca: string } };
}

export const DEFAULT_AGENT_CONFIG: NodeAgentConfig = {
  maxPods: 110,
  workers: 16,
  leaseDurationSeconds: 40,
  nodeStatusUpdateSeconds: 10,
  nodeStatusReportSeconds: 300,
  relistSeconds: 1,
  runtimeHealthSeconds: 2,
  plegThresholdSeconds: 180,
  backoff: { initialSeconds: 10, maxSeconds: 300 },
  stopPodsOnExit: "auto",
  normalEvents: "auto",
  labels: {},
  taints: [],
  containerLogMaxBytes: 10 * 1024 * 1024,
  containerLogMaxFiles: 5,
  statusConcurrency: 32,
  server: { enabled: true, address: "127.0.0.1", port: 10250 },
};

interface NodeState {
  id: NodeIdentity;
  uid?: string;
  lastReport: number;
  events?: EventSink;
}

export class NodeAgent {
  readonly nodes = new Map<string, NodeState>();
  readonly workers = new Map<string, PodWorker>();
  /** Pod uid by sandbox id (events and relists name sandboxes). */
  readonly #sandboxOwner = new Map<string, string>();
  readonly status: StatusManager;
  readonly backoff: CrashBackoff;
  readonly rootDir: string;
  readonly #ephemeral: boolean;
  readonly #client: Client;
  readonly #log: Logger;
  /** ServiceAccount tokens of projected volumes (the kubelet's token manager). */
  readonly tokens: ServiceAccountTokenManager;
  #queue?: { enqueue(key: string): void; enqueueAfter(key: string, ms: number): void };
  #pods?: Informer<Pod>;
  #nodeInformer?: Informer<Node>;
  #leases?: LeaseRenewer;
  #timers: ReturnType<typeof setInterval>[] = [];
  #unsubscribe?: () => void;
  #lastSeen = new Map<string, string>();
  #port = 0;
  #stopped = false;
  /** Why the node is not Ready (the kubelet's runtime errors); empty: Ready. */
  #notReady: string[] = [];
  #lastRelistOk = Date.now();
  #checking = false;

  constructor(
    private readonly ctx: PluginContext<NodeAgentConfig>,
    readonly runtime: RuntimeAdapter,
    private readonly opts: { dataDir?: string; nodeName?: string },
  ) {
    const c = ctx.config;
    this.#client = ctx.client;
    this.tokens = new ServiceAccountTokenManager({ client: ctx.client });
    this.#log = ctx.log;
    this.#ephemeral = !c.rootDir && !opts.dataDir;
    this.rootDir = c.rootDir ?? (opts.dataDir ? join(opts.dataDir, "agent") : mkdtempSync(join(tmpdir(), "skiff-agent-")));
    mkdirSync(this.rootDir, { recursive: true });
    this.status = new StatusManager(ctx.client, ctx.log, c.statusConcurrency);
    this.backoff = new CrashBackoff({ initialMs: c.backoff.initialSeconds * 1000, maxMs: c.backoff.maxSeconds * 1000, resetMs: 2 * c.backoff.maxSeconds * 1000 });
  }

  get port(): number {
    return this.#port;
  }

  /** Sets the port reported in `daemonEndpoints` (the agent endpoint, once listening). */
  setPort(port: number): void {
    this.#port = port;
  }

  /** The node a pod on this agent runs on, if it is one of ours. */
  ownsNode(name: string | undefined): boolean {
    return name !== undefined && this.nodes.has(name);
  }

  /** The worker of a pod by namespace and name. */
  podByName(namespace: string, name: string): { pod: Pod; worker: PodWorker } | undefined {
    const pod = this.#pods?.get(name, namespace);
    const worker = pod?.metadata.uid ? this.workers.get(pod.metadata.uid) : undefined;
    return pod && worker ? { pod, worker } : undefined;
  }

  // ---- streaming (the agent endpoint and an in-process API server call these) ----

  /**
   * The container `container` (or the pod's only one) of a pod on this node:
   * its current instance, or with `previous` the one before. Throws an
   * ApiError (NotFound, BadRequest) as the kubelet's messages say.
   */
  async findContainer(namespace: string, name: string, container: string | undefined, previous = false): Promise<ContainerStatus> {
    const found = this.podByName(namespace, name);
    if (!found) throw errors.notFound({ resource: "pods", group: "", name });
    const { pod, worker } = found;
    const names = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.name);
    let want = container;
    if (!want) {
      if (pod.spec.containers.length !== 1) {
        throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${pod.spec.containers.map((c) => c.name).join(" ")}]`);
      }
      want = pod.spec.containers[0]!.name;
    }
    if (!names.includes(want)) throw errors.badRequest(`container ${want} is not valid for pod ${name}`);
    const list = byName(await worker.containersNow()).get(want) ?? [];
    const c = previous ? list[1] : list[0];
    if (!c) {
      throw errors.badRequest(
        previous ? `previous terminated container "${want}" in pod "${name}" not found` : `container "${want}" in pod "${name}" is waiting to start: ContainerCreating`,
      );
    }
    return c;
  }

  /** `kubectl logs`: the container's log as a byte stream. */
  async logs(namespace: string, name: string, container: string | undefined, opts: LogOptions & { previous?: boolean }, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const c = await this.findContainer(namespace, name, container, opts.previous ?? false);
    const running = async () => (await this.runtime.containerStatus(c.id))?.state === "running";
    return readLog(c.logPath, { ...opts, follow: (opts.follow ?? false) && !opts.previous }, running, signal);
  }

  /** `kubectl exec`: runs a command in a running container; resolves with its exit code. */
  async exec(namespace: string, name: string, container: string | undefined, command: string[], opts: ExecOptions): Promise<number> {
    if (!this.runtime.exec) throw errors.badRequest(`the ${this.runtime.name} runtime does not support exec`);
    if (opts.tty && !this.runtime.capabilities.tty) throw errors.badRequest(`the ${this.runtime.name} runtime does not support a TTY`);
    const c = await this.findContainer(namespace, name, container);
    if (c.state !== "running") throw errors.badRequest(`container ${c.name} is not running`);
    return this.runtime.exec(c.id, command, opts);
  }

  /** `kubectl port-forward`: a byte stream to `port` in the pod's network. */
  async portForward(namespace: string, name: string, port: number): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }> {
    if (!this.runtime.portForward) throw errors.badRequest(`the ${this.runtime.name} runtime does not support port-forward`);
    const found = this.podByName(namespace, name);
    if (!found) throw errors.notFound({ resource: "pods", group: "", name });
    const sandbox: PodSandboxStatus | null = await found.worker.sandboxNow();
    if (!sandbox || sandbox.state !== "ready") throw errors.badRequest(`pod ${name} is not running`);
    return this.runtime.portForward(sandbox.id, port);
  }

  async start(): Promise<void> {
    const c = this.ctx.config;
    const rt = this.runtime;
    const v = await rt.version();
    const runtimeVersion = `${v.runtimeName}://${v.runtimeVersion}`;
    if (rt.simulatedNodes && rt.simulatedNodes.length > 0) {
      for (const s of rt.simulatedNodes) this.nodes.set(s.name, { id: simulatedNode(s, runtimeVersion), lastReport: 0 });
    } else {
      const name = this.opts.nodeName;
      if (!name) throw new Error("the node agent needs a node name (--node-name)");
      const id = localNode(name, { maxPods: c.maxPods, runtimeVersion, storagePath: this.rootDir, labels: c.labels, ...(c.nodeIP ? { nodeIP: c.nodeIP } : {}) });
      this.nodes.set(name, { id, lastReport: 0 });
    }
    const simulated = rt.simulatedNodes !== undefined && rt.simulatedNodes.length > 0;
    const normalEvents = c.normalEvents === "on" || (c.normalEvents === "auto" && !simulated);

    // Nodes and their leases.
    this.#leases = new LeaseRenewer(this.#client, this.#log, { durationSeconds: c.leaseDurationSeconds, renewIntervalMs: (c.leaseDurationSeconds * 1000) / 4, concurrency: 16 });
    await pool([...this.nodes.values()], 16, (n) => this.#register(n, c.taints));
    for (const n of this.nodes.values()) this.#leases.add(n.id.name, n.uid);
    await pool([...this.nodes.values()], 16, (n) => this.#leases!.renewNow(n.id.name));
    const single = this.nodes.size === 1 ? [...this.nodes.keys()][0]! : undefined;
    this.#nodeInformer = this.ctx.informers.informer<Node>(nodesRef, single ? { fieldSelector: `metadata.name=${single}` } : {});
    this.#every(c.nodeStatusUpdateSeconds * 1000, () => void this.#reportNodes());

    // Pods: workers, fed by one informer over our node(s).
    const deps: WorkerDeps = {
      runtime: rt,
      client: this.#client,
      log: this.#log,
      status: this.status,
      backoff: this.backoff,
      env: this.#envSources(),
      volumes: this.#volumeSources(),
      sandboxCreated: (id, uid) => this.#sandboxOwner.set(id, uid),
      events: (node) => this.#events(node),
      normalEvents,
      node: (name) => {
        const n = this.nodes.get(name);
        return { hostIPs: n?.id.hostIPs ?? [], allocatable: n ? allocatableOf(n.id) : {} };
      },
      rootDir: this.rootDir,
      tokens: this.tokens,
      enqueue: (uid, ms) => (ms && ms > 0 ? this.#queue?.enqueueAfter(uid, ms) : this.#queue?.enqueue(uid)),
      finished: (uid) => this.#forget(uid),
    };
    this.#queue = this.ctx.controller(
      {
        name: "node-agent-pods",
        reconcile: async (uid: string) => {
          const w = this.workers.get(uid);
          return w ? await w.sync() : undefined;
        },
      },
      { workers: c.workers },
    );
    const sandboxes = await rt.listPodSandboxes();
    const byPod = new Map<string, typeof sandboxes>();
    for (const s of sandboxes) {
      const uid = s.labels["io.kubernetes.pod.uid"] ?? s.config.uid;
      byPod.set(uid, [...(byPod.get(uid) ?? []), s]);
      this.#sandboxOwner.set(s.id, uid);
    }
    const ours = (p: Pod) => this.ownsNode(p.spec?.nodeName);
    const upsert = (p: Pod, old?: Pod) => {
      if (this.#stopped || !ours(p) || !p.metadata.uid) return;
      // Our own status writes come back as updates: nothing to do for those.
      if (old && this.workers.has(p.metadata.uid) && !specChanged(old, p)) {
        this.workers.get(p.metadata.uid)!.pod = p;
        return;
      }
      let w = this.workers.get(p.metadata.uid);
      if (!w) {
        w = new PodWorker(deps, p);
        const existing = byPod.get(p.metadata.uid);
        if (existing) w.adopt(existing);
        this.workers.set(p.metadata.uid, w);
        if (existing) this.status.seed(p.metadata.uid, p.status);
      }
      w.update(p);
    };
    // One node: watch only its pods. Simulated nodes: the all-pods informer the controllers in this process share anyway.
    this.#pods = this.ctx.informers.informer<Pod>(podsRef, single ? { fieldSelector: `spec.nodeName=${single}` } : {});
    this.#pods.on({
      add: upsert,
      update: (o, p) => upsert(p, o),
      delete: (p) => {
        const w = p.metadata.uid ? this.workers.get(p.metadata.uid) : undefined;
        w?.update(undefined);
      },
    });
    this.#unsubscribe = rt.subscribe?.((e) => {
      // Only the agent creates and starts containers; what it did not cause is a container stopping or vanishing.
      if (e.type !== "stopped" && e.type !== "deleted") return;
      const uid = this.#sandboxOwner.get(e.podSandboxId);
      if (uid) this.workers.get(uid)?.poke();
    });
    const relistMs = c.relistSeconds * 1000 * (rt.capabilities.events ? 10 : 1);
    this.#lastRelistOk = Date.now();
    this.#every(relistMs, () => void this.#relist());
    this.#every(c.runtimeHealthSeconds * 1000, () => void this.#checkRuntime());
    // Simulated containers write next to nothing: no rotation for them.
    if (!simulated) this.#every(10_000, () => void this.#rotateLogs());
    this.ctx.spawn("adopt", async (signal) => {
      await this.#pods!.waitForSync();
      if (signal.aborted) return;
      await this.#removeOrphans(byPod);
    });
    this.#log.info({ nodes: this.nodes.size, runtime: rt.name, rootDir: this.rootDir, adopted: byPod.size }, "node agent running");
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#unsubscribe?.();
    this.#leases?.stop();
    this.status.stop();
    // auto: a standalone agent leaves its pods running (the kubelet's way; they are re-adopted at the next
    // start); an all-in-one server stopping is the whole cluster stopping, and an ephemeral agent's pods
    // could never be re-adopted: those remove them. SIGKILL never gets here: everything stays.
    const removePods = this.ctx.config.stopPodsOnExit === "always" || (this.ctx.config.stopPodsOnExit === "auto" && (this.#ephemeral || this.ctx.role === "server"));
    if (removePods) {
      await pool([...this.workers.values()], 16, (w) => w.shutdown());
      // Anything the runtime still runs that no worker knew about.
      for (const s of await this.runtime.listPodSandboxes().catch(() => [])) await this.runtime.removePodSandbox(s.id).catch(() => undefined);
    } else {
      for (const w of this.workers.values()) w.detach();
    }
    this.workers.clear();
    if (this.#ephemeral) rmSync(this.rootDir, { recursive: true, force: true });
  }

  // ---- nodes ------------------------------------------------------------------

  async #register(n: NodeState, taints: NodeTaint[]): Promise<void> {
    const now = Date.now();
    try {
      const created = await this.#client.create<Node>(nodesRef, nodeObject(n.id, this.#port, taints, now));
      n.uid = created.metadata.uid;
      n.lastReport = now;
      return;
    } catch (e) {
      if (!isApiError(e, "AlreadyExists")) throw e;
    }
    // Already registered (an agent restart): adopt it, refresh labels and status.
    const existing = await this.#client.get<Node>(nodesRef, n.id.name);
    n.uid = existing.metadata.uid;
    const labels = existing.metadata.labels ?? {};
    if (Object.entries(n.id.labels).some(([k, v]) => labels[k] !== v)) {
      await this.#client.patch(nodesRef, n.id.name, "merge", { metadata: { labels: n.id.labels } });
    }
    await this.#client.patch(nodesRef, n.id.name, "merge", { status: nodeStatus(n.id, existing, { now, port: this.#port, notReady: this.#notReady }) }, { subresource: "status" });
    n.lastReport = now;
  }

  async #reportNodes(): Promise<void> {
    const c = this.ctx.config;
    const now = Date.now();
    await pool([...this.nodes.values()], 8, async (n) => {
      const current = this.#nodeInformer?.get(n.id.name);
      if (!current && this.#nodeInformer?.hasSynced()) {
        // Someone deleted our Node: register again.
        await this.#register(n, c.taints).catch((e) => this.#log.warn({ node: n.id.name, err: (e as Error).message }, "node re-registration failed"));
        return;
      }
      const next = nodeStatus(n.id, current, { now, port: this.#port, notReady: this.#notReady });
      if (!nodeStatusDiffers(current, next) && now - n.lastReport < c.nodeStatusReportSeconds * 1000) return;
      try {
        await this.#client.patch(nodesRef, n.id.name, "merge", { status: next }, { subresource: "status" });
        n.lastReport = now;
      } catch (e) {
        this.#log.warn({ node: n.id.name, err: (e as Error).message }, "node status update failed");
      }
    });
  }

  #events(node: string): EventSink {
    const n = this.nodes.get(node);
    if (!n) return this.ctx.events;
    n.events ??= new EventRecorder(this.#client, { component: "kubelet", host: node });
    return n.events;
  }

  // ---- pods -------------------------------------------------------------------

  async #get<T>(ref: typeof configMapsRef | typeof secretsRef, namespace: string, name: string): Promise<T | null> {
    try {
      return (await this.#client.get(ref, name, { namespace })) as unknown as T;
    } catch (e) {
      if (isApiError(e, "NotFound")) return null;
      throw e;
    }
  }

  #envSources(): WorkerDeps["env"] {
    type Obj = { data?: Record<string, string>; binaryData?: Record<string, string>; stringData?: Record<string, string> };
    return {
      configMap: async (ns, name) => {
        const cm = await this.#get<Obj>(configMapsRef, ns, name);
        return cm ? { ...cm.data } : null;
      },
      secret: async (ns, name) => {
        const s = await this.#get<Obj>(secretsRef, ns, name);
        return s ? secretData(s) : null;
      },
    };
  }

  #volumeSources(): WorkerDeps["volumes"] {
    return {
      configMap: (ns, name) => this.#get(configMapsRef, ns, name),
      secret: (ns, name) => this.#get(secretsRef, ns, name),
      serviceAccountToken: (pod, projection) => this.tokens.token(pod, projection),
    };
  }

  #forget(uid: string): void {
    this.workers.delete(uid);
    this.tokens.forgetPod(uid);
    for (const [sb, owner] of this.#sandboxOwner) if (owner === uid) this.#sandboxOwner.delete(sb);
  }

  /** Sandboxes whose pod the API no longer has (deleted while the agent was down): removed. */
  async #removeOrphans(byPod: Map<string, { id: string }[]>): Promise<void> {
    const known = new Set((this.#pods?.list() ?? []).map((p) => p.metadata.uid));
    for (const [uid, list] of byPod) {
      if (known.has(uid)) continue;
      for (const s of list) {
        this.#log.info({ sandbox: s.id, podUid: uid }, "removing the sandbox of a pod that no longer exists");
        await this.runtime.removePodSandbox(s.id).catch((e) => this.#log.warn({ sandbox: s.id, err: (e as Error).message }, "removing an orphaned sandbox failed"));
      }
    }
  }

  /** Runtime health (see the module comment): updates `#notReady`; a change is reported at once. */
  async #checkRuntime(): Promise<void> {
    if (this.#checking || this.#stopped) return;
    this.#checking = true;
    try {
      const rt = this.runtime;
      let problems: string[];
      let detail: string | undefined;
      try {
        const h = await withTimeout(rt.status ? rt.status() : rt.version().then((): RuntimeHealth => ({ ready: true })), RUNTIME_CHECK_TIMEOUT_MS);
        problems = h.ready ? [] : h.problems?.length ? [...h.problems] : ["container runtime is not ready"];
      } catch (e) {
        problems = ["container runtime is down"];
        detail = (e as Error).message;
      }
      const threshold = this.ctx.config.plegThresholdSeconds * 1000;
      const since = Date.now() - this.#lastRelistOk;
      if (since > threshold) problems.push(`PLEG is not healthy: pleg was last seen active ${goDuration(since)} ago; threshold is ${goDuration(threshold)}`);
      if (this.#stopped || problems.join("\n") === this.#notReady.join("\n")) return;
      const recovered = problems.length === 0;
      this.#notReady = problems;
      if (recovered) this.#log.info({ runtime: rt.name }, "container runtime is healthy again; node Ready");
      else this.#log.warn({ runtime: rt.name, problems, ...(detail ? { err: detail } : {}) }, "container runtime unhealthy; node NotReady");
      await this.#reportNodes();
      // Syncs failed while the runtime was away: resync every pod now rather than after their backoff.
      if (recovered) for (const w of this.workers.values()) w.poke();
    } finally {
      this.#checking = false;
    }
  }

  /** The kubelet's PLEG relist: a container whose state changed pokes its pod's worker. */
  async #relist(): Promise<void> {
    let list: ContainerStatus[];
    try {
      list = await this.runtime.listContainers();
    } catch (e) {
      // Once per outage at warn level; the health check reports it on the node.
      if (this.#notReady.length === 0) this.#log.warn({ err: (e as Error).message }, "runtime relist failed");
      else this.#log.debug({ err: (e as Error).message }, "runtime relist failed");
      return;
    }
    this.#lastRelistOk = Date.now();
    const seen = new Map<string, string>();
    for (const c of list) {
      const state = `${c.state}:${c.exitCode ?? ""}`;
      seen.set(c.id, state);
      if (this.#lastSeen.get(c.id) !== state) {
        const uid = this.#sandboxOwner.get(c.podSandboxId) ?? c.labels["io.kubernetes.pod.uid"];
        if (uid) this.workers.get(uid)?.poke();
      }
    }
    this.#lastSeen = seen;
  }

  async #rotateLogs(): Promise<void> {
    const c = this.ctx.config;
    let list: ContainerStatus[];
    try {
      list = await this.runtime.listContainers();
    } catch {
      return;
    }
    for (const s of list) {
      if (s.state !== "running" || !s.logPath) continue;
      try {
        if (await rotateLog(s.logPath, c.containerLogMaxBytes, c.containerLogMaxFiles)) await this.runtime.reopenContainerLog?.(s.id);
      } catch (e) {
        this.#log.warn({ container: s.id, err: (e as Error).message }, "log rotation failed");
      }
    }
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref?.();
    this.#timers.push(t);
  }
}

/** Whether a pod changed in a way its worker must act on (not just its status). */
function specChanged(a: Pod, b: Pod): boolean {
  const ma = a.metadata;
  const mb = b.metadata;
  if (ma.deletionTimestamp !== mb.deletionTimestamp || ma.deletionGracePeriodSeconds !== mb.deletionGracePeriodSeconds) return true;
  if (JSON.stringify(ma.labels ?? {}) !== JSON.stringify(mb.labels ?? {}) || JSON.stringify(ma.annotations ?? {}) !== JSON.stringify(mb.annotations ?? {})) return true;
  if ((a.spec.readinessGates ?? []).length > 0) return true; // readiness gates read other conditions
  return JSON.stringify(a.spec) !== JSON.stringify(b.spec);
}

const RUNTIME_CHECK_TIMEOUT_MS = 10_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** A duration as Go prints a time.Duration rounded to seconds (`3m0s`, `45s`, `1h2m3s`). */
export function goDuration(ms: number): string {
  let s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

/** Runs `fn` over `items`, at most `n` at a time. */
export async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  const run = async () => {
    while (i < items.length) await fn(items[i++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, run));
}
