/**
 * @module Pod status as the kubelet reports it, computed from what the
 * runtime shows (pure functions, table-tested): container statuses with
 * state, lastState, restartCount, image, imageID, containerID, ready and
 * started; the phase (kubelet's `getPhase`); and the kubelet-owned conditions
 * PodReadyToStartContainers, Initialized, Ready, ContainersReady and
 * PodScheduled, keeping each condition's lastTransitionTime while its status
 * does not change.
 */
import type { ContainerStatus, PodSandboxStatus } from "../../core/runtime/adapter.ts";
import { apiTime, type Container, type ContainerStateObj, type ContainerStatusObj, type Pod, type PodCondition, type PodStatus } from "./types.ts";

export interface Waiting {
  reason: string;
  message?: string;
}

export interface StatusInput {
  pod: Pod;
  /** Prefix of container IDs (`process://…`). */
  runtimeName: string;
  /** The pod's current sandbox. */
  sandbox: PodSandboxStatus | null;
  /** The pod's containers in the runtime, any state, any sandbox. */
  containers: readonly ContainerStatus[];
  /** A waiting reason to show for a container that is not running (back-off, config errors), by name. */
  waiting: ReadonlyMap<string, Waiting>;
  /** Probe results by container id. */
  ready(containerId: string): boolean;
  started(containerId: string): boolean;
  /** Termination messages by container id (from the log, for FallbackToLogsOnError). */
  messages?: ReadonlyMap<string, string>;
  hostIPs: readonly string[];
  /** When the agent first saw the pod. */
  startTime: string;
  /** No container will (re)start any more: the phase becomes Succeeded or Failed. */
  podIsTerminal: boolean;
  /** The previous status (to keep condition transition times). */
  previous?: PodStatus;
  now: number;
}

const KUBELET_CONDITIONS = new Set(["PodScheduled", "Ready", "Initialized", "ContainersReady", "PodReadyToStartContainers"]);

export function containerId(runtimeName: string, id: string): string {
  return `${runtimeName}://${id}`;
}

function time(ms: number | undefined): string | null {
  return ms === undefined ? null : apiTime(ms);
}

function terminated(rt: string, c: ContainerStatus, messages?: ReadonlyMap<string, string>): ContainerStateObj {
  const message = c.message ?? messages?.get(c.id);
  return {
    terminated: {
      exitCode: c.exitCode ?? 0,
      reason: c.reason ?? (c.exitCode === 0 ? "Completed" : "Error"),
      ...(message ? { message } : {}),
      startedAt: time(c.startedAt),
      finishedAt: time(c.finishedAt),
      containerID: containerId(rt, c.id),
    },
  };
}

/** The runtime containers for each name, newest first. */
export function byName(containers: readonly ContainerStatus[]): Map<string, ContainerStatus[]> {
  const out = new Map<string, ContainerStatus[]>();
  for (const c of containers) {
    const list = out.get(c.name) ?? [];
    list.push(c);
    out.set(c.name, list);
  }
  for (const list of out.values()) list.sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
  return out;
}

function containerStatuses(input: StatusInput, specs: readonly Container[], isInit: boolean, all: Map<string, ContainerStatus[]>): ContainerStatusObj[] {
  const hasInit = (input.pod.spec.initContainers ?? []).length > 0;
  const rt = input.runtimeName;
  const out: ContainerStatusObj[] = [];
  for (const spec of specs) {
    const [latest, previous] = all.get(spec.name) ?? [];
    const waiting = input.waiting.get(spec.name);
    const s: ContainerStatusObj = {
      name: spec.name,
      state: { waiting: { reason: !isInit && hasInit ? "PodInitializing" : "ContainerCreating" } },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: spec.image ?? "",
      imageID: "",
      started: false,
    };
    if (latest) {
      s.restartCount = latest.attempt;
      s.imageID = latest.imageRef;
      s.containerID = containerId(rt, latest.id);
      if (latest.state === "running") {
        s.state = { running: { startedAt: apiTime(latest.startedAt ?? latest.createdAt) } };
        if (previous) s.lastState = terminated(rt, previous, input.messages);
        s.started = input.started(latest.id);
        s.ready = s.started && input.ready(latest.id);
      } else if (latest.state === "exited") {
        if (waiting && !input.podIsTerminal) {
          s.state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
          s.lastState = terminated(rt, latest, input.messages);
        } else {
          s.state = terminated(rt, latest, input.messages);
          if (previous) s.lastState = terminated(rt, previous, input.messages);
        }
      } else {
        s.state = { waiting: { reason: "ContainerCreating" } };
        if (previous) s.lastState = terminated(rt, previous, input.messages);
      }
    } else if (waiting) {
      s.state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
    }
    out.push(s);
  }
  // The kubelet sorts regular containers by name; init containers keep spec order.
  if (!isInit) out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/** kubelet's getPhase (regular init containers; sidecars are run as regular init containers). */
export function podPhase(pod: Pod, init: readonly ContainerStatusObj[], regular: readonly ContainerStatusObj[], podIsTerminal: boolean): NonNullable<PodStatus["phase"]> {
  const policy = pod.spec.restartPolicy ?? "Always";
  let pendingInitialization = 0;
  let failedInitialization = 0;
  for (const s of init) {
    if (s.state.running) pendingInitialization++;
    else if (s.state.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInitialization++;
    } else if (s.state.waiting) {
      if (s.lastState.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInitialization++;
      } else pendingInitialization++;
    } else pendingInitialization++;
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of regular) {
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state.waiting) {
      if (s.lastState.terminated) stopped++;
      else waiting++;
    }
  }
  if (failedInitialization > 0 && policy === "Never") return "Failed";
  const anyRegularStarted = regular.some((s) => s.state.running || s.state.terminated || s.lastState.terminated);
  if ((pendingInitialization > 0 && !anyRegularStarted) || waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (running === 0 && stopped > 0) {
    if (podIsTerminal) return stopped === succeeded ? "Succeeded" : "Failed";
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    if (policy === "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  return {
    type,
    status: ok ? "True" : "False",
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

function podConditions(input: StatusInput, phase: string, init: ContainerStatusObj[], regular: ContainerStatusObj[]): PodCondition[] {
  const done = phase === "Succeeded" || phase === "Failed";
  const out: PodCondition[] = [];
  for (const c of input.pod.status?.conditions ?? []) if (!KUBELET_CONDITIONS.has(c.type)) out.push(c);
  out.push(condition("PodReadyToStartContainers", input.sandbox?.state === "ready"));
  const incompleteInit = init.filter((s) => !(s.state.terminated && s.state.terminated.exitCode === 0)).map((s) => s.name);
  if (incompleteInit.length === 0) out.push(condition("Initialized", true));
  else if (done && phase === "Succeeded") out.push(condition("Initialized", true, "PodCompleted"));
  else out.push(condition("Initialized", false, "ContainersNotInitialized", `containers with incomplete status: [${incompleteInit.join(" ")}]`));
  const unready = regular.filter((s) => !s.ready).map((s) => s.name);
  let containersReady: PodCondition;
  if (done) containersReady = condition("ContainersReady", false, "PodCompleted");
  else if (incompleteInit.length > 0) {
    containersReady = condition("ContainersReady", false, "ContainersNotInitialized", `containers with incomplete status: [${incompleteInit.join(" ")}]`);
  } else if (unready.length > 0) containersReady = condition("ContainersReady", false, "ContainersNotReady", `containers with unready status: [${unready.join(" ")}]`);
  else containersReady = condition("ContainersReady", true);
  const gates = (input.pod.spec.readinessGates ?? []).map((g) => g.conditionType);
  const missingGates = gates.filter((g) => !(input.pod.status?.conditions ?? []).some((c) => c.type === g && c.status === "True"));
  let ready: PodCondition;
  if (containersReady.status !== "True") ready = { ...containersReady, type: "Ready" };
  else if (missingGates.length > 0) ready = condition("Ready", false, "ReadinessGatesNotReady", `corresponding condition of pod readiness gate "${missingGates[0]}" does not exist.`);
  else ready = condition("Ready", true);
  out.push(ready, containersReady, condition("PodScheduled", true));
  // Keep transition times of conditions whose status did not change.
  const before = new Map((input.previous?.conditions ?? input.pod.status?.conditions ?? []).map((c) => [c.type, c]));
  const now = apiTime(input.now);
  return out.map((c) => {
    if (!KUBELET_CONDITIONS.has(c.type)) return c;
    const prev = before.get(c.type);
    const lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
    return { type: c.type, status: c.status, lastProbeTime: null, lastTransitionTime, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) };
  });
}

/** The whole pod status the agent reports (the fields it owns, plus qosClass and other conditions kept). */
export function computePodStatus(input: StatusInput): PodStatus {
  const all = byName(input.containers);
  const init = containerStatuses(input, input.pod.spec.initContainers ?? [], true, all);
  const regular = containerStatuses(input, input.pod.spec.containers, false, all);
  let phase = podPhase(input.pod, init, regular, input.podIsTerminal);
  // Pods never leave a terminal phase.
  const apiPhase = input.pod.status?.phase;
  if ((apiPhase === "Succeeded" || apiPhase === "Failed") && phase !== apiPhase) phase = apiPhase;
  const hostIPs = input.hostIPs.map((ip) => ({ ip }));
  const podIPs = input.sandbox?.ips?.length ? input.sandbox.ips : input.sandbox?.ip ? [input.sandbox.ip] : input.pod.spec.hostNetwork ? [...input.hostIPs] : [];
  // A pod IP, once reported, stays (also after the sandbox is stopped), as the kubelet's does.
  const keptIPs = podIPs.length > 0 ? podIPs : (input.previous?.podIPs ?? input.pod.status?.podIPs ?? []).map((p) => p.ip);
  const status: PodStatus = {
    phase,
    conditions: podConditions(input, phase, init, regular),
    ...(hostIPs.length > 0 ? { hostIP: hostIPs[0]!.ip, hostIPs } : {}),
    ...(keptIPs.length > 0 ? { podIP: keptIPs[0]!, podIPs: keptIPs.map((ip) => ({ ip })) } : {}),
    startTime: input.startTime,
    ...(init.length > 0 ? { initContainerStatuses: init } : {}),
    containerStatuses: regular,
    ...(input.pod.status?.qosClass ? { qosClass: input.pod.status.qosClass } : {}),
  };
  if (phase === apiPhase && input.pod.status?.reason) status.reason = input.pod.status.reason;
  if (phase === apiPhase && input.pod.status?.message) status.message = input.pod.status.message;
  return status;
}
