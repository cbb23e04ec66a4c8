/**
 * @module The RuntimeAdapter contract the node agent drives. CRI-shaped (pod
 * sandboxes, containers, images, streaming, stats) so containerd's CRI maps
 * one to one; the process, Docker and fake runtimes implement the same
 * contract and pass the same conformance suite (`test/conformance/runtime-suite.ts`).
 * Optional abilities are declared in `capabilities` and come as optional
 * members — never as methods that throw "unsupported".
 *
 * The agent is stateless about the runtime, as the kubelet is: everything it
 * needs after a restart (which pod a sandbox belongs to, a container's name
 * and restart count) is in the labels and annotations it passed in, which the
 * runtime must hand back unchanged from `list*` and `*Status` — also from a
 * fresh adapter instance over the same state (re-adoption).
 *
 * Logs follow CRI: the runtime writes each container's output to `logPath`
 * in the CRI log format (`<RFC3339Nano> <stream> <P|F> <text>`, see
 * `cri-log.ts`); the agent reads that file for `kubectl logs`. A container
 * that never wrote anything may have no file.
 *
 * Objects returned are snapshots the caller may keep but must not change
 * (an adapter may share nested maps such as labels between snapshots).
 *
 * Idempotency, as CRI: stopping or removing something already stopped or
 * gone succeeds; `*Status` of an unknown id is `null`. Every method may be
 * called concurrently for different ids; calls for the same id are
 * serialized by the agent (one pod worker per pod).
 */

export interface RuntimeCapabilities {
  /** Pods get their own IP (network namespace, CNI, bridge); without it pods share the host's network. */
  podIP: boolean;
  /** `exec` is available. */
  exec: boolean;
  /** `exec` accepts `tty: true` (a pseudo-terminal). */
  tty: boolean;
  /** `portForward` is available. */
  portForward: boolean;
  /** CPU/memory limits are enforced (cgroups). */
  resourceLimits: boolean;
  /** `stats` is available. */
  stats: boolean;
  /** `ContainerConfig.mounts` are applied at their `containerPath`. */
  mounts: boolean;
  /** `subscribe` pushes container state changes (the agent then relists rarely). */
  events: boolean;
  /** Sandboxes and containers outlive the adapter's process (re-adoption after an agent restart). */
  persistent: boolean;
  /**
   * Images are pulled and supply the entrypoint. False (the process runtime):
   * nothing is pulled, so a container without `command`/`args` cannot run and
   * the agent reports that instead of creating a sandbox.
   */
  images: boolean;
  /** The runtime keeps an image store: `listImages`, `removeImage` and `importImage` are present. */
  imageStore: boolean;
}

/**
 * Credentials for one registry, as the kubelet derives them from a pod's
 * `imagePullSecrets` (`kubernetes.io/dockerconfigjson` / `.dockercfg`): CRI's
 * AuthConfig. `auth` is base64 `user:password`, as in a docker config.
 */
export interface RegistryAuth {
  /** The registry host (`registry.example:5000`, `docker.io`). */
  serverAddress: string;
  username?: string;
  password?: string;
  auth?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface ImageInfo {
  /** The image's id / digest reference. */
  ref: string;
  /** Its names (`docker.io/library/busybox:1`). */
  tags: string[];
  /** Bytes. */
  size: number;
}

/** Progress of `importImage`: bytes of the archive consumed so far. */
export interface ImportProgress {
  done: number;
  total: number;
}

export interface PortMapping {
  containerPort: number;
  hostPort?: number;
  protocol: "TCP" | "UDP" | "SCTP";
}

export interface PodSandboxConfig {
  /** The pod's uid, name and namespace. */
  uid: string;
  name: string;
  namespace: string;
  /** 0 for the pod's first sandbox, +1 each time the agent has to recreate it. */
  attempt: number;
  hostname: string;
  /** Share the host's network (no own IP even where the runtime could give one). */
  hostNetwork: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  portMappings: PortMapping[];
  /** Directory under which container logs go. */
  logDirectory: string;
  dns?: { servers: string[]; searches: string[]; options: string[] };
}

export interface PodSandboxStatus {
  id: string;
  config: Pick<PodSandboxConfig, "uid" | "name" | "namespace" | "attempt">;
  state: "ready" | "notready";
  /** Unix ms. */
  createdAt: number;
  /** Absent when the sandbox shares the host's network. */
  ip?: string;
  ips?: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readOnly: boolean;
}

export interface ContainerConfig {
  name: string;
  /** The restart count: 0 for the first container of this name in the pod. */
  attempt: number;
  image: string;
  /** The argv to run (the agent has already merged the image's entrypoint, `command` and `args`). */
  command: string[];
  args: string[];
  workingDir?: string;
  env: { name: string; value: string }[];
  mounts: Mount[];
  /** Absolute path of the CRI-format log file. */
  logPath: string;
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
  /** Limits in canonical units; absent = unlimited. */
  resources: { cpuMillis?: number; memoryBytes?: number; cpuRequestMillis?: number };
  /** The container's effective security context (pod-level values merged in by the agent); absent = the runtime's defaults. */
  securityContext?: ContainerSecurityContext;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** What of a container's `securityContext` runtimes with isolation apply (the process runtime ignores it). */
export interface ContainerSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  /** Capability names as in the pod spec (`NET_ADMIN`, `ALL`), without the `CAP_` prefix. */
  capabilities?: { add?: string[]; drop?: string[] };
  privileged?: boolean;
}

export type ContainerState = "created" | "running" | "exited" | "unknown";

export interface ContainerStatus {
  id: string;
  podSandboxId: string;
  name: string;
  attempt: number;
  state: ContainerState;
  /** Unix ms. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Set once exited; 128+n when killed by signal n (143 SIGTERM, 137 SIGKILL). */
  exitCode?: number;
  /** `Completed` (exit 0), `Error`, `OOMKilled`, `StartError`, … */
  reason?: string;
  message?: string;
  image: string;
  /** What `status.containerStatuses[].imageID` shows. */
  imageRef: string;
  logPath: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Runtime-specific details for debugging (CRI's verbose `info`), e.g. `pid`. */
  info?: Record<string, string>;
}

export interface ExecOptions {
  /** Absent: stdin is closed at once. */
  stdin?: ReadableStream<Uint8Array>;
  stdout?: WritableStream<Uint8Array>;
  /** Ignored with a TTY (stderr is merged into stdout). */
  stderr?: WritableStream<Uint8Array>;
  /** Run under a pseudo-terminal; only when `capabilities.tty`. */
  tty?: boolean;
  /** Terminal size changes, when `tty`. */
  resize?: AsyncIterable<{ width: number; height: number }>;
  /** Aborting kills the command (probe timeouts, a client that went away); the exit code is then 137. */
  signal?: AbortSignal;
}

export interface ContainerStats {
  /** Cumulative CPU time, nanoseconds. */
  cpuUsageNanos: number;
  memoryWorkingSetBytes: number;
  /** Unix ms. */
  timestamp: number;
}

/** CRI's ContainerEventType. */
export type ContainerEventType = "created" | "started" | "stopped" | "deleted";

export interface ContainerEvent {
  type: ContainerEventType;
  containerId: string;
  podSandboxId: string;
  /** Unix ms. */
  at: number;
}

/**
 * A node the runtime simulates (the fake runtime plays many nodes in one
 * process). The agent registers one Node per entry and runs their pods on
 * this one adapter.
 */
export interface SimulatedNode {
  name: string;
  /** Node capacity, as quantities (`cpu: "32"`, `memory: "256Gi"`, `pods: "110"`). */
  capacity: Record<string, string>;
  /** The node's InternalIP. */
  address: string;
  labels?: Record<string, string>;
}

/**
 * The runtime daemon's health (`RuntimeAdapter.status`): CRI's `Status`
 * conditions (RuntimeReady, NetworkReady) folded into one answer.
 */
export interface RuntimeHealth {
  /** The daemon answers and can run pods. */
  ready: boolean;
  /**
   * When not ready, one line per failed condition in the kubelet's words
   * (`container runtime network not ready: NetworkReady=false reason:… message:…`);
   * the agent puts them in the node's Ready condition.
   */
  problems?: string[];
}

export interface RuntimeAdapter {
  /** `process`, `containerd`, `docker`, `fake`: what `--runtime` selects. */
  readonly name: string;
  readonly capabilities: RuntimeCapabilities;
  /**
   * Present when the runtime simulates nodes: the agent then acts for these
   * nodes (and not for its own node name). Fixed for the adapter's lifetime.
   */
  readonly simulatedNodes?: readonly SimulatedNode[];

  /** For `status.nodeInfo.containerRuntimeVersion` (`<runtimeName>://<runtimeVersion>`). */
  version(): Promise<{ runtimeName: string; runtimeVersion: string }>;

  /**
   * Optional cheap health check of the daemon behind the adapter (CRI
   * `Status`, Docker `/_ping`), called by the agent every few seconds and by
   * `skiff server` once at start. Rejects when the daemon cannot be reached;
   * resolves `ready: false` when it answers but cannot run pods. Must not
   * change anything. Absent: `version()` answering counts as healthy.
   */
  status?(): Promise<RuntimeHealth>;

  /**
   * Makes `image` available locally; resolves with its reference (digest).
   * Idempotent. `auth` comes from the pod's imagePullSecrets matching the
   * image's registry (the agent picks them; none → anonymous).
   */
  pullImage(image: string, auth?: RegistryAuth): Promise<string>;
  /** The image's reference (digest) when present locally, else null. */
  imageStatus(image: string): Promise<{ ref: string; size: number } | null>;

  /** Creates and starts a sandbox (network, IP). Resolves with its id once ready. */
  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  /** Stops every container in it and releases its network; the record stays until removed. Idempotent. */
  stopPodSandbox(id: string): Promise<void>;
  /** Removes a sandbox and its containers (stopping them first, SIGKILL). Idempotent. */
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<PodSandboxStatus | null>;
  /** Everything this runtime started, including before an agent restart (re-adoption). */
  listPodSandboxes(): Promise<PodSandboxStatus[]>;

  /** Creates (does not start) a container in a ready sandbox. Rejects when it cannot (e.g. the executable does not exist). */
  createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string>;
  /** Starts a created container; resolves once it runs (a start failure rejects and leaves it exited with reason `StartError`). */
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeoutSeconds` (0: SIGKILL at once). Resolves once exited. Idempotent. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Removes an exited container and its runtime state (not its log file). Kills it first if running. Idempotent. */
  removeContainer(id: string): Promise<void>;
  containerStatus(id: string): Promise<ContainerStatus | null>;
  listContainers(filter?: { podSandboxId?: string }): Promise<ContainerStatus[]>;

  /** Present when `capabilities.imageStore`: every image held locally. */
  listImages?(): Promise<ImageInfo[]>;
  /** Present when `capabilities.imageStore`: removes an image by name or ref. Idempotent (gone already → resolves). */
  removeImage?(image: string): Promise<void>;
  /**
   * Present when `capabilities.imageStore`: loads an OCI-layout or
   * docker-save tar archive (what `skiff images import` hands it) and
   * resolves with the names of the images it held.
   */
  importImage?(archivePath: string, onProgress?: (p: ImportProgress) => void): Promise<string[]>;
  /** Present when `capabilities.exec`: runs `command` in the container's context. Resolves with its exit code. */
  exec?(containerId: string, command: string[], opts: ExecOptions): Promise<number>;
  /** Present when `capabilities.portForward`: a byte stream to `port` inside the sandbox's network. */
  portForward?(sandboxId: string, port: number): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }>;
  /** Present when `capabilities.stats`; null for a container that is not running. */
  stats?(containerId: string): Promise<ContainerStats | null>;
  /**
   * Called by the agent after it renamed a running container's log file
   * (rotation) so the runtime writes to a fresh `logPath`. Runtimes that open
   * the file for every write need not implement it.
   */
  reopenContainerLog?(containerId: string): Promise<void>;
  /** Present when `capabilities.events`: container state changes as they happen. Returns the unsubscribe function. */
  subscribe?(listener: (event: ContainerEvent) => void): () => void;

  /** Releases the adapter's resources (timers, connections); running pods keep running. Idempotent. */
  close(): Promise<void>;
}
