/**
 * @module The RuntimeAdapter contract the node agent drives. CRI-shaped (pod
 * sandboxes, containers, images, streaming, stats) so containerd's CRI maps
 * one to one; the process, Docker and fake runtimes implement the same
 * contract and pass the same conformance suite. Optional abilities are
 * declared in `capabilities` and come as optional members — never as methods
 * that throw "unsupported".
 *
 * Logs follow CRI: the runtime writes each container's output to `logPath`
 * in the CRI log format (`<RFC3339Nano> <stream> <P|F> <text>`); the agent
 * reads that file for `kubectl logs`.
 */

export interface RuntimeCapabilities {
  /** Pods get their own IP (network namespace, CNI, bridge). */
  podIP: boolean;
  /** `exec` is available. */
  exec: boolean;
  /** `portForward` is available. */
  portForward: boolean;
  /** CPU/memory limits are enforced. */
  resourceLimits: boolean;
  /** `stats` is available. */
  stats: boolean;
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
  attempt: number;
  hostname: string;
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
  ip?: string;
  ips?: string[];
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readOnly: boolean;
}

export interface ContainerConfig {
  name: string;
  attempt: number;
  image: string;
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
  labels: Record<string, string>;
  annotations: Record<string, string>;
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
  exitCode?: number;
  /** `Completed`, `Error`, `OOMKilled`, … */
  reason?: string;
  message?: string;
  image: string;
  imageRef: string;
  logPath: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ExecStreams {
  stdin?: ReadableStream<Uint8Array>;
  stdout?: WritableStream<Uint8Array>;
  /** Absent with a TTY (stderr is merged into stdout). */
  stderr?: WritableStream<Uint8Array>;
  tty: boolean;
  /** Terminal size changes, when `tty`. */
  resize?: AsyncIterable<{ width: number; height: number }>;
}

export interface ContainerStats {
  /** Cumulative CPU time, nanoseconds. */
  cpuUsageNanos: number;
  memoryWorkingSetBytes: number;
  /** Unix ms. */
  timestamp: number;
}

export interface RuntimeAdapter {
  /** `process`, `containerd`, `docker`, `fake`. */
  readonly name: string;
  readonly capabilities: RuntimeCapabilities;
  version(): Promise<{ runtimeName: string; runtimeVersion: string }>;

  pullImage(image: string): Promise<string>;
  /** The image's reference (digest) when present locally, else null. */
  imageStatus(image: string): Promise<{ ref: string; size: number } | null>;

  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  stopPodSandbox(id: string): Promise<void>;
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<PodSandboxStatus | null>;
  /** Everything this runtime started, including before an agent restart (re-adoption). */
  listPodSandboxes(): Promise<PodSandboxStatus[]>;

  createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeoutSeconds`. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  containerStatus(id: string): Promise<ContainerStatus | null>;
  listContainers(filter?: { podSandboxId?: string }): Promise<ContainerStatus[]>;

  /** Present when `capabilities.exec`. Resolves with the command's exit code. */
  exec?(containerId: string, command: string[], streams: ExecStreams): Promise<number>;
  /** Present when `capabilities.portForward`: a byte stream to `port` inside the sandbox. */
  portForward?(sandboxId: string, port: number): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }>;
  /** Present when `capabilities.stats`. */
  stats?(containerId: string): Promise<ContainerStats | null>;

  /** Releases connections; running pods keep running. */
  close(): Promise<void>;
}
