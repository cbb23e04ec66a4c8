/**
 * @module One pod on the node: its sync brings the runtime in line with the
 * pod spec (sandbox, init containers in order, then containers; restarts per
 * restartPolicy with CrashLoopBackOff; probes; graceful termination) and
 * hands the resulting status to the status manager. Level-based like the
 * kubelet's syncPod: each sync reads the runtime afresh, so an agent restart
 * (which re-creates workers from the runtime's sandboxes) changes nothing.
 *
 * Syncs of one pod never overlap (the agent runs them from a work queue
 * keyed by pod uid). Anything that waits out a grace period — terminating
 * the pod, killing a container whose liveness probe failed — runs in the
 * background and requeues the pod when done, so a slow container never
 * holds a sync slot.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { isApiError } from "../../core/api/errors.ts";
import type { Client, ReconcileResult } from "../../core/client/types.ts";
import type { Logger } from "../../core/log.ts";
import type { EventSink } from "../../core/plugin/types.ts";
import type { ContainerConfig, ContainerStatus, PodSandboxConfig, PodSandboxStatus, RuntimeAdapter } from "../../core/runtime/adapter.ts";
import type { CrashBackoff } from "./backoff.ts";
import {
  ANNOTATION_GRACE,
  ANNOTATION_HASH,
  ANNOTATION_RESTART_COUNT,
  ANNOTATION_TERMINATION_PATH,
  ANNOTATION_TERMINATION_POLICY,
  ConfigError,
  containerEnv,
  containerHash,
  containerResources,
  containerSecurityContext,
  type EnvSources,
  expandCommand,
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  type PodRuntimeInfo,
} from "./container-spec.ts";
import { sandboxDns } from "./dns-config.ts";
import { ensureImage, pullSecretsKeyring } from "./images.ts";
import { logText } from "./logs.ts";
import { byName, computePodStatus, type Waiting } from "./pod-status.ts";
import { ContainerProbes, type ProbeKind, runHandler } from "./prober.ts";
import type { StatusManager } from "./status-manager.ts";
import { apiTime, type Container, type Pod, type PodStatus, podsRef } from "./types.ts";
import type { ServiceAccountTokenManager } from "./service-account-tokens.ts";
import { containerMounts, hasServiceAccountToken, setUpVolumes, type VolumeSources } from "./volumes.ts";

/** What every worker shares (one per agent). */
export interface WorkerDeps {
  runtime: RuntimeAdapter;
  client: Client;
  log: Logger;
  status: StatusManager;
  backoff: CrashBackoff;
  /** ConfigMaps and Secrets for env (decoded text) and for volumes (as stored). */
  env: EnvSources;
  volumes: VolumeSources;
  /** Refresh times of the pods' ServiceAccount tokens (absent: none are projected). */
  tokens?: Pick<ServiceAccountTokenManager, "refreshIn">;
  /** A sandbox was created for a pod (runtime events name sandboxes). */
  sandboxCreated(sandboxId: string, uid: string): void;
  /** Events about pods on this node (source: kubelet, host: the node). */
  events(nodeName: string): EventSink;
  /** Normal events (Pulled, Created, Started …) too, or only warnings. */
  normalEvents: boolean;
  /** The node's IPs and allocatable resources. */
  node(nodeName: string): { hostIPs: string[]; allocatable: Record<string, string> };
  /** Directory for pods' volumes (`<root>/pods/<uid>`) and logs (`<root>/logs/<ns>_<name>_<uid>`). */
  rootDir: string;
  /** Sync this pod soon / after `ms`. */
  enqueue(uid: string, ms?: number): void;
  /** The pod is gone and cleaned up: forget its worker. */
  finished(uid: string): void;
}

const MIN_GRACE_SECONDS = 2;

function shouldRestart(policy: string, exitCode: number | undefined): boolean {
  if (policy === "Always") return true;
  if (policy === "OnFailure") return exitCode !== 0;
  return false;
}

export class PodWorker {
  /** The pod as the API last showed it; undefined once it is gone from the API. */
  pod: Pod | undefined;
  readonly uid: string;
  readonly nodeName: string;
  /** Every sandbox of this pod still in the runtime, newest last. */
  readonly #sandboxIds: string[] = [];
  #sandboxAttempt = -1;
  readonly #probes = new Map<string, ContainerProbes>();
  readonly #waiting = new Map<string, Waiting>();
  readonly #messages = new Map<string, string>();
  readonly #killing = new Map<string, Promise<void>>();
  /** Readiness carried over from the API status for containers adopted after a restart. */
  readonly #adoptedReady = new Map<string, boolean>();
  #volumes = new Map<string, string>();
  /** After a failed token refresh: no new attempt before this time (ms). */
  #tokenRetryAt = 0;
  #startTime?: string;
  #terminal = false;
  #terminating?: Promise<void>;
  #finished = false;
  /** The pod's containers as last listed; dropped whenever this worker changes something in the runtime. */
  #snapshot?: ContainerStatus[];

  constructor(
    private readonly deps: WorkerDeps,
    pod: Pod,
  ) {
    this.pod = pod;
    this.uid = pod.metadata.uid!;
    this.nodeName = pod.spec.nodeName ?? "";
    this.#startTime = pod.status?.startTime;
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") this.#terminal = true;
    for (const s of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
      const id = s.containerID?.split("://")[1];
      if (id && s.ready) this.#adoptedReady.set(id, true);
    }
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Re-adoption: sandboxes the runtime already has for this pod. */
  adopt(sandboxes: PodSandboxStatus[]): void {
    for (const s of [...sandboxes].sort((a, b) => a.config.attempt - b.config.attempt || a.createdAt - b.createdAt)) {
      if (!this.#sandboxIds.includes(s.id)) this.#sandboxIds.push(s.id);
      this.#sandboxAttempt = Math.max(this.#sandboxAttempt, s.config.attempt);
    }
  }

  update(pod: Pod | undefined): void {
    this.pod = pod;
    this.deps.enqueue(this.uid);
  }

  /** Probe results and container exits call this. */
  poke(): void {
    if (!this.#finished) this.deps.enqueue(this.uid);
  }

  // ---- sync -----------------------------------------------------------------

  async sync(): Promise<ReconcileResult | void> {
    if (this.#finished || this.#terminating) return;
    this.#snapshot = undefined;
    const pod = this.pod;
    if (!pod || pod.metadata.deletionTimestamp) {
      this.#terminating = this.#terminate(pod)
        .catch(async (e: unknown) => {
          this.deps.log.warn({ pod: this.uid, err: (e as Error).message }, "terminating the pod failed; retrying in 1s");
          await new Promise((r) => setTimeout(r, 1000));
        })
        .finally(() => {
          this.#terminating = undefined;
          if (!this.#finished) this.poke();
        });
      return;
    }
    this.#startTime ??= apiTime(Date.now());
    const rt = this.deps.runtime;
    const policy = pod.spec.restartPolicy ?? "Always";
    let sandbox = await this.#currentSandbox();
    let containers = await this.#containers();
    let requeue: number | undefined;
    const later = (ms: number) => (requeue = Math.min(requeue ?? Infinity, Math.max(1, ms)));

    if (this.#terminal) {
      if (sandbox?.state === "ready") {
        await rt.stopPodSandbox(sandbox.id);
        this.#snapshot = undefined;
      }
      if (containers.length > 0) await this.#publish(pod);
      return;
    }

    if (!sandbox || sandbox.state !== "ready") {
      const ran = containers.some((c) => c.state === "exited");
      if (policy === "Never" && ran) {
        // A Never pod does not get a second sandbox: what ran is final.
        this.#terminal = true;
        for (const c of containers) if (c.state !== "exited") await rt.stopContainer(c.id, 0);
        this.#snapshot = undefined;
        await this.#publish(pod);
        return;
      }
      if (sandbox) for (const c of containers) if (c.state !== "exited") await rt.stopContainer(c.id, 0);
      this.#snapshot = undefined;
      if (!rt.capabilities.images) {
        // Nothing could run: no sandbox (and no network) for it.
        const commandless = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].filter((c) => !c.command?.length && !c.args?.length);
        if (commandless.length > 0) {
          for (const c of commandless) {
            const message = `the ${rt.name} runtime pulls no images, so container ${c.name} needs a command`;
            if (this.#waiting.get(c.name)?.message !== message) this.#event(pod, "Warning", "Failed", `Error: ${message}`);
            this.#waiting.set(c.name, { reason: "CreateContainerConfigError", message });
          }
          await this.#publish(pod);
          return;
        }
      }
      try {
        if (rt.capabilities.mounts) this.#volumes = await setUpVolumes(pod, this.#podDir(), this.#info(sandbox), this.deps.volumes);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) this.#waiting.set(c.name, { reason: "CreateContainerConfigError", message: e.message });
        this.#event(pod, "Warning", "FailedMount", e.message);
        await this.#publish(pod);
        return { requeueAfter: this.#retryMs() };
      }
      const config = this.#sandboxConfig(pod, this.#sandboxAttempt + 1);
      let id: string;
      try {
        id = await rt.runPodSandbox(config);
      } catch (e) {
        this.#event(pod, "Warning", "FailedCreatePodSandBox", `Failed to create pod sandbox: ${(e as Error).message}`);
        await this.#publish(pod);
        throw e;
      }
      this.#sandboxAttempt = config.attempt;
      this.#sandboxIds.push(id);
      this.deps.sandboxCreated(id, this.uid);
      sandbox = await rt.podSandboxStatus(id);
      if (!sandbox) throw new Error(`sandbox ${id} vanished right after it was created`);
      containers = await this.#containers();
    }

    await this.#refreshTokens(pod, sandbox, later);

    const current = byName(containers.filter((c) => c.podSandboxId === sandbox!.id));
    const everywhere = byName(containers);
    const inits = pod.spec.initContainers ?? [];
    const initialized = () => inits.every((ic) => current.get(ic.name)?.[0]?.state === "exited" && current.get(ic.name)![0]!.exitCode === 0);
    const appsStarted = pod.spec.containers.some((c) => current.has(c.name));

    if (!appsStarted && !initialized()) {
      for (const ic of inits) {
        const latest = current.get(ic.name)?.[0];
        const previous = everywhere.get(ic.name)?.[0];
        if (!latest) {
          await this.#start(pod, sandbox, ic, previous ? previous.attempt + 1 : 0, later);
          break;
        }
        if (latest.state === "running" || latest.state === "created") {
          if (latest.state === "created") await this.#replaceCreated(pod, sandbox, ic, latest, later);
          break;
        }
        if (latest.exitCode === 0) continue;
        if (policy === "Never") {
          this.#terminal = true;
          break;
        }
        const wait = this.#backoffWait(pod, ic, latest);
        if (wait > 0) {
          later(wait);
          break;
        }
        await this.#start(pod, sandbox, ic, latest.attempt + 1, later);
        break;
      }
    }

    if (!this.#terminal && (appsStarted || initialized())) {
      for (const c of pod.spec.containers) {
        const latest = current.get(c.name)?.[0];
        const previous = everywhere.get(c.name)?.[0];
        if (!latest) {
          if (previous?.state === "exited") {
            if (!shouldRestart(policy, previous.exitCode)) continue;
            const wait = this.#backoffWait(pod, c, previous);
            if (wait > 0) {
              later(wait);
              continue;
            }
          }
          await this.#start(pod, sandbox, c, previous ? previous.attempt + 1 : 0, later);
          continue;
        }
        if (this.#killing.has(latest.id)) continue;
        if (latest.state === "created") {
          await this.#replaceCreated(pod, sandbox, c, latest, later);
          continue;
        }
        if (latest.state === "running") {
          const probes = this.#probes.get(latest.id) ?? this.#startProbes(sandbox, c, latest);
          const changed = latest.annotations[ANNOTATION_HASH] !== undefined && latest.annotations[ANNOTATION_HASH] !== containerHash(c);
          if (probes.killReason || changed) {
            const why = probes.killReason ?? `Container ${c.name} definition changed, will be restarted`;
            const grace = (probes.killReason ? (c.livenessProbe ?? c.startupProbe)?.terminationGracePeriodSeconds : undefined) ?? pod.spec.terminationGracePeriodSeconds ?? 30;
            this.#killInBackground(pod, c, latest, grace, why);
          }
          continue;
        }
        // Exited.
        this.#stopProbes(latest.id);
        await this.#noteTermination(c, latest);
        if (!shouldRestart(policy, latest.exitCode)) continue;
        const wait = this.#backoffWait(pod, c, latest);
        if (wait > 0) {
          later(wait);
          continue;
        }
        await this.#start(pod, sandbox, c, latest.attempt + 1, later);
      }
      if (policy !== "Always") {
        const after = byName(await this.#containers());
        const done = pod.spec.containers.every((c) => {
          const l = after.get(c.name)?.[0];
          return l?.state === "exited" && !shouldRestart(policy, l.exitCode);
        });
        if (done) this.#terminal = true;
      }
    }

    if (this.#terminal) {
      for (const [id, p] of this.#probes) {
        p.stop();
        this.#probes.delete(id);
      }
      await rt.stopPodSandbox(sandbox.id);
      this.#snapshot = undefined;
    }
    await this.#collectGarbage();
    await this.#publish(pod);
    return requeue !== undefined ? { requeueAfter: requeue } : undefined;
  }

  /**
   * Projected ServiceAccount tokens due for a refresh (80 % of their life,
   * or 24 h) are fetched anew and their volumes rewritten atomically; the
   * pod is synced again when the next one is due. After an agent restart
   * (nothing cached) they are fetched at once. A failed refresh keeps the
   * old token (still valid) and is retried after the initial back-off.
   */
  async #refreshTokens(pod: Pod, sandbox: PodSandboxStatus, later: (ms: number) => void): Promise<void> {
    const tokens = this.deps.tokens;
    if (!tokens || !this.deps.runtime.capabilities.mounts || !(pod.spec.volumes ?? []).some(hasServiceAccountToken)) return;
    const due = tokens.refreshIn(this.uid);
    // None cached: the agent restarted with the pod running; its token files are as old as the pod's last sandbox.
    if ((due === undefined || due <= 0) && Date.now() >= this.#tokenRetryAt) {
      try {
        const written = await setUpVolumes(pod, this.#podDir(), this.#info(sandbox), this.deps.volumes, hasServiceAccountToken);
        for (const [name, path] of written) this.#volumes.set(name, path);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        this.#event(pod, "Warning", "FailedMount", e.message);
        // Not again before the back-off, whatever else syncs the pod meanwhile.
        this.#tokenRetryAt = Date.now() + this.#retryMs();
        later(this.#retryMs());
        return;
      }
    }
    const next = tokens.refreshIn(this.uid);
    if (next !== undefined) later(Math.max(1000, next));
  }

  /** Ephemeral agents: remove everything of this pod from the runtime at once, no API calls. */
  async shutdown(): Promise<void> {
    this.#finished = true;
    for (const p of this.#probes.values()) p.stop();
    this.#probes.clear();
    for (const id of this.#sandboxIds) await this.deps.runtime.removePodSandbox(id).catch(() => undefined);
  }

  /** Stops probes without touching the runtime (the agent stops, pods keep running). */
  detach(): void {
    for (const p of this.#probes.values()) p.stop();
    this.#probes.clear();
  }

  /** Configuration errors are retried after the initial back-off (10 s by default). */
  #retryMs(): number {
    return this.deps.backoff.opts.initialMs;
  }

  /** The pod's containers in the runtime now (streaming). */
  containersNow(): Promise<ContainerStatus[]> {
    return this.#list();
  }

  /** The pod's current sandbox (streaming). */
  sandboxNow(): Promise<PodSandboxStatus | null> {
    return this.#currentSandbox();
  }

  // ---- steps ------------------------------------------------------------------

  async #currentSandbox(): Promise<PodSandboxStatus | null> {
    const id = this.#sandboxIds[this.#sandboxIds.length - 1];
    return id ? await this.deps.runtime.podSandboxStatus(id) : null;
  }

  async #containers(): Promise<ContainerStatus[]> {
    this.#snapshot ??= await this.#list();
    return this.#snapshot;
  }

  async #list(): Promise<ContainerStatus[]> {
    const out: ContainerStatus[] = [];
    for (const id of this.#sandboxIds) out.push(...(await this.deps.runtime.listContainers({ podSandboxId: id })));
    return out;
  }

  #podDir(): string {
    return join(this.deps.rootDir, "pods", this.uid);
  }

  #logDir(pod: Pod): string {
    return join(this.deps.rootDir, "logs", `${pod.metadata.namespace}_${pod.metadata.name}_${this.uid}`);
  }

  #info(sandbox: PodSandboxStatus | null): PodRuntimeInfo {
    const node = this.deps.node(this.nodeName);
    const podIPs = sandbox?.ips?.length ? sandbox.ips : sandbox?.ip ? [sandbox.ip] : this.pod?.spec.hostNetwork || !this.deps.runtime.capabilities.podIP ? node.hostIPs : [];
    return { podIPs, hostIPs: node.hostIPs, allocatable: node.allocatable };
  }

  #sandboxConfig(pod: Pod, attempt: number): PodSandboxConfig {
    const logDirectory = this.#logDir(pod);
    return {
      uid: this.uid,
      name: pod.metadata.name!,
      namespace: pod.metadata.namespace!,
      attempt,
      hostname: (pod.spec.hostname ?? pod.metadata.name!).slice(0, 63),
      hostNetwork: pod.spec.hostNetwork === true,
      labels: { ...pod.metadata.labels, [LABEL_POD_NAME]: pod.metadata.name!, [LABEL_POD_NAMESPACE]: pod.metadata.namespace!, [LABEL_POD_UID]: this.uid },
      annotations: { ...pod.metadata.annotations },
      portMappings: pod.spec.containers.flatMap((c) =>
        (c.ports ?? []).map((p) => ({ containerPort: p.containerPort, ...(p.hostPort ? { hostPort: p.hostPort } : {}), protocol: (p.protocol ?? "TCP") as "TCP" })),
      ),
      logDirectory,
      ...sandboxDns(pod, this.deps.client),
    };
  }

  async #start(pod: Pod, sandbox: PodSandboxStatus, c: Container, attempt: number, later: (ms: number) => void): Promise<void> {
    const rt = this.deps.runtime;
    this.#snapshot = undefined;
    const fail = (reason: string, message: string, retryMs?: number) => {
      this.#waiting.set(c.name, { reason, message });
      this.#event(pod, "Warning", "Failed", `Error: ${message}`);
      if (retryMs !== undefined) later(retryMs);
    };
    let env: { name: string; value: string }[];
    let mounts: ContainerConfig["mounts"] = [];
    try {
      env = await containerEnv(pod, c, this.#info(sandbox), this.deps.env);
      if (rt.capabilities.mounts) mounts = containerMounts(c, this.#volumes);
    } catch (e) {
      if (e instanceof ConfigError) return fail(e.reason, e.message, this.#retryMs());
      throw e;
    }
    const image = c.image ?? "";
    const pulled = await ensureImage({
      runtime: rt,
      image,
      ...(c.imagePullPolicy ? { policy: c.imagePullPolicy } : {}),
      credentials: async () => {
        const { keyring, missing } = await pullSecretsKeyring(this.deps.client, pod);
        if (missing.length) this.#event(pod, "Warning", "FailedToRetrieveImagePullSecret", `Unable to retrieve some image pull secrets (${missing.join(", ")}); attempting to pull the image may not succeed.`);
        return keyring.lookup(image);
      },
      event: (type, reason, message) => this.#event(pod, type, reason, message),
    });
    if (!pulled.ok) return fail(pulled.reason, pulled.message, this.#retryMs());
    const { command, args } = expandCommand(c, env);
    // The runtime creates the directory when it first writes.
    const logDir = join(this.#logDir(pod), c.name);
    const config: ContainerConfig = {
      name: c.name,
      attempt,
      image,
      command,
      args,
      ...(c.workingDir ? { workingDir: c.workingDir } : {}),
      env,
      mounts,
      logPath: join(logDir, `${attempt}.log`),
      stdin: c.stdin ?? false,
      stdinOnce: c.stdinOnce ?? false,
      tty: c.tty ?? false,
      resources: containerResources(c),
      ...containerSecurityContext(pod, c),
      labels: { [LABEL_CONTAINER_NAME]: c.name, [LABEL_POD_NAME]: pod.metadata.name!, [LABEL_POD_NAMESPACE]: pod.metadata.namespace!, [LABEL_POD_UID]: this.uid },
      annotations: {
        [ANNOTATION_HASH]: containerHash(c),
        [ANNOTATION_RESTART_COUNT]: String(attempt),
        [ANNOTATION_TERMINATION_PATH]: c.terminationMessagePath ?? "/dev/termination-log",
        [ANNOTATION_TERMINATION_POLICY]: c.terminationMessagePolicy ?? "File",
        [ANNOTATION_GRACE]: String(pod.spec.terminationGracePeriodSeconds ?? 30),
      },
    };
    if (attempt > 0) this.deps.backoff.next(`${this.uid}/${c.name}`);
    let id: string;
    try {
      id = await rt.createContainer(sandbox.id, config, this.#sandboxConfig(pod, sandbox.config.attempt));
    } catch (e) {
      return fail("CreateContainerError", (e as Error).message, this.#retryMs());
    }
    this.#event(pod, "Normal", "Created", `Created container: ${c.name}`);
    try {
      await rt.startContainer(id);
    } catch (e) {
      // The container is recorded as exited (StartError): the next sync restarts it with back-off.
      this.#event(pod, "Warning", "Failed", `Error: ${(e as Error).message}`);
      later(1);
      return;
    }
    this.#waiting.delete(c.name);
    this.#event(pod, "Normal", "Started", `Started container ${c.name}`);
    const status = await rt.containerStatus(id);
    if (status?.state === "running") {
      this.#startProbes(sandbox, c, status);
      if (c.lifecycle?.postStart) void this.#postStart(pod, sandbox, c, status);
    }
  }

  /** A container created but never started (the agent stopped in between): replace it. */
  async #replaceCreated(pod: Pod, sandbox: PodSandboxStatus, c: Container, latest: ContainerStatus, later: (ms: number) => void): Promise<void> {
    this.#snapshot = undefined;
    await this.deps.runtime.removeContainer(latest.id);
    await this.#start(pod, sandbox, c, latest.attempt, later);
  }

  async #postStart(pod: Pod, sandbox: PodSandboxStatus, c: Container, s: ContainerStatus): Promise<void> {
    const r = await runHandler(c.lifecycle!.postStart!, this.#probeTarget(sandbox, c, s.id), (pod.spec.terminationGracePeriodSeconds ?? 30) * 1000);
    if (r.ok || this.#finished) return;
    this.#event(pod, "Warning", "FailedPostStartHook", `PostStartHook failed: ${r.message ?? ""}`);
    this.#killInBackground(pod, c, s, pod.spec.terminationGracePeriodSeconds ?? 30, `FailedPostStartHook`);
  }

  #probeTarget(sandbox: PodSandboxStatus | null, c: Container, containerId: string) {
    return {
      runtime: this.deps.runtime,
      containerId,
      podIP: () => this.#info(sandbox).podIPs[0],
      ports: c.ports,
    };
  }

  #startProbes(sandbox: PodSandboxStatus, c: Container, s: ContainerStatus): ContainerProbes {
    const adopted = this.#adoptedReady.get(s.id);
    const probes = new ContainerProbes(
      c,
      this.#probeTarget(sandbox, c, s.id),
      s.startedAt ?? Date.now(),
      {
        changed: () => this.poke(),
        failed: (kind: ProbeKind, message: string) => {
          if (this.pod) this.#event(this.pod, "Warning", "Unhealthy", `${kind[0]!.toUpperCase()}${kind.slice(1)} probe failed: ${message}`);
        },
      },
      adopted !== undefined ? { ready: adopted } : {},
    );
    this.#probes.set(s.id, probes);
    return probes;
  }

  #stopProbes(id: string): void {
    this.#probes.get(id)?.stop();
    this.#probes.delete(id);
  }

  #backoffWait(pod: Pod, c: Container, latest: ContainerStatus): number {
    const key = `${this.uid}/${c.name}`;
    const wait = this.deps.backoff.remaining(key, latest.finishedAt ?? Date.now());
    if (wait > 0) {
      const secs = Math.round(this.deps.backoff.delay(key) / 1000);
      const message = `back-off ${secs}s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${this.uid})`;
      if (this.#waiting.get(c.name)?.reason !== "CrashLoopBackOff") {
        this.#event(pod, "Warning", "BackOff", `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${this.uid})`);
      }
      this.#waiting.set(c.name, { reason: "CrashLoopBackOff", message });
    }
    return wait;
  }

  /** For FallbackToLogsOnError: the end of the log becomes the termination message. */
  async #noteTermination(c: Container, s: ContainerStatus): Promise<void> {
    if (this.#messages.has(s.id) || c.terminationMessagePolicy !== "FallbackToLogsOnError" || s.exitCode === 0) return;
    const text = await logText(s.logPath, { tailLines: 80 }).catch(() => "");
    this.#messages.set(s.id, text.length > 2048 ? text.slice(-2048) : text);
  }

  #killInBackground(pod: Pod, c: Container, s: ContainerStatus, graceSeconds: number, why: string): void {
    if (this.#killing.has(s.id)) return;
    this.#event(pod, "Normal", "Killing", why);
    const p = this.#kill(c, s, graceSeconds)
      .catch((e: unknown) => this.deps.log.warn({ pod: this.uid, container: s.name, err: (e as Error).message }, "killing a container failed"))
      .finally(() => {
        this.#killing.delete(s.id);
        this.poke();
      });
    this.#killing.set(s.id, p);
  }

  /** preStop, then SIGTERM with what is left of the grace period (at least 2 s), then SIGKILL. */
  async #kill(c: Container | undefined, s: ContainerStatus, graceSeconds: number): Promise<void> {
    this.#stopProbes(s.id);
    const t0 = Date.now();
    if (s.state === "running" && c?.lifecycle?.preStop) {
      const sandbox = await this.deps.runtime.podSandboxStatus(s.podSandboxId);
      const r = await runHandler(c.lifecycle.preStop, this.#probeTarget(sandbox, c, s.id), graceSeconds * 1000);
      if (!r.ok && this.pod) this.#event(this.pod, "Warning", "FailedPreStopHook", `PreStopHook failed: ${r.message ?? ""}`);
    }
    const left = Math.max(MIN_GRACE_SECONDS, graceSeconds - Math.floor((Date.now() - t0) / 1000));
    await this.deps.runtime.stopContainer(s.id, left);
    this.#snapshot = undefined;
  }

  /** Deletion (or the pod vanished): stop everything gracefully, report, confirm the deletion, clean up. */
  async #terminate(pod: Pod | undefined): Promise<void> {
    const rt = this.deps.runtime;
    const grace = pod ? (pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30) : MIN_GRACE_SECONDS;
    const containers = await this.#list();
    const specs = new Map([...(pod?.spec.initContainers ?? []), ...(pod?.spec.containers ?? [])].map((c) => [c.name, c]));
    await Promise.all([...this.#killing.values()]);
    await Promise.all(
      containers
        .filter((c) => c.state === "running" || c.state === "created")
        .map((c) => {
          if (pod) this.#event(pod, "Normal", "Killing", `Stopping container ${c.name}`);
          return this.#kill(specs.get(c.name), c, grace);
        }),
    );
    for (const p of this.#probes.values()) p.stop();
    this.#probes.clear();
    for (const id of this.#sandboxIds) await rt.stopPodSandbox(id);
    this.#snapshot = undefined;
    if (pod) {
      this.#terminal = true;
      if (containers.length > 0) {
        await this.#publish(pod);
        await this.deps.status.flush(this.uid);
      }
      try {
        await this.deps.client.delete(podsRef, pod.metadata.name!, { namespace: pod.metadata.namespace!, gracePeriodSeconds: 0, preconditions: { uid: this.uid } });
      } catch (e) {
        if (!isApiError(e, "NotFound") && !isApiError(e, "Conflict")) throw e;
      }
    }
    for (const id of this.#sandboxIds) await rt.removePodSandbox(id);
    rmSync(this.#podDir(), { recursive: true, force: true });
    if (pod) rmSync(this.#logDir(pod), { recursive: true, force: true });
    this.deps.backoff.forgetPrefix(`${this.uid}/`);
    this.deps.status.forget(this.uid);
    this.#finished = true;
    this.deps.finished(this.uid);
  }

  /** Keeps the newest two containers of each name (the current one and the one `lastState` and `logs --previous` show). */
  async #collectGarbage(): Promise<void> {
    const all = byName(await this.#containers());
    for (const list of all.values()) {
      for (const old of list.slice(2)) {
        if (old.state !== "exited") continue;
        this.#messages.delete(old.id);
        await this.deps.runtime.removeContainer(old.id);
        this.#snapshot = undefined;
      }
    }
    // Older sandboxes with nothing left in them go too.
    for (const id of this.#sandboxIds.slice(0, -1)) {
      if ((await this.deps.runtime.listContainers({ podSandboxId: id })).length === 0) {
        await this.deps.runtime.removePodSandbox(id);
        this.#sandboxIds.splice(this.#sandboxIds.indexOf(id), 1);
      }
    }
  }

  async #publish(pod: Pod): Promise<void> {
    const sandbox = await this.#currentSandbox();
    const containers = await this.#containers();
    const node = this.deps.node(this.nodeName);
    const previous = this.deps.status.get(this.uid) ?? pod.status;
    const status: PodStatus = computePodStatus({
      pod,
      runtimeName: this.deps.runtime.name,
      sandbox,
      containers,
      waiting: this.#waiting,
      ready: (id) => this.#probes.get(id)?.ready ?? this.#adoptedReady.get(id) ?? false,
      started: (id) => this.#probes.get(id)?.started ?? true,
      messages: this.#messages,
      hostIPs: node.hostIPs,
      startTime: this.#startTime ?? apiTime(Date.now()),
      podIsTerminal: this.#terminal,
      ...(previous ? { previous } : {}),
      now: Date.now(),
    });
    this.deps.status.set({ namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: this.uid }, status);
  }

  #event(pod: Pod, type: "Normal" | "Warning", reason: string, message: string): void {
    if (type === "Normal" && !this.deps.normalEvents) return;
    this.deps.events(this.nodeName).record(pod, type, reason, message);
  }
}
