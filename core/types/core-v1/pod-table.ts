/**
 * @module `kubectl get pods` columns, computed like upstream's printPod
 * (pkg/printers/internalversion/printers.go): READY counts ready containers
 * (plus started sidecars), STATUS is the most telling reason (init progress,
 * waiting/terminated reasons, Completed, Terminating…), RESTARTS carries the
 * time since the last restart.
 */
import type { KubeObject } from "../../api/meta.ts";
import type { TableColumn } from "../../api/registry.ts";
import { humanDuration, parseTime } from "../duration.ts";
import { asNum, asObj, asStr, getPath, objsAt, strAt, type JsonObject } from "../object-access.ts";
import { ageColumn, column, nameColumn } from "../table.ts";

export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

function isRestartable(c: JsonObject | undefined): boolean {
  return c?.restartPolicy === "Always";
}

function conditionTrue(pod: KubeObject, type: string): boolean {
  for (const c of objsAt(pod, "status", "conditions")) {
    if (c.type === type) return c.status === "True";
  }
  return false;
}

function hasReadyCondition(pod: KubeObject): boolean {
  return objsAt(pod, "status", "conditions").some((c) => c.type === "Ready" && c.status === "True");
}

function finishedAt(status: JsonObject): number | undefined {
  return parseTime(getPath(status, "lastState", "terminated", "finishedAt"));
}

/** The READY, STATUS and RESTARTS cells of one pod at time `now`. */
export function podSummary(pod: KubeObject, now: number): PodSummary {
  const specContainers = objsAt(pod, "spec", "containers");
  const specInit = objsAt(pod, "spec", "initContainers");
  let restarts = 0;
  let restartableInitRestarts = 0;
  let total = specContainers.length;
  let ready = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitRestart: number | undefined;
  const later = (a: number | undefined, b: number | undefined) => (b !== undefined && (a === undefined || a < b) ? b : a);

  const phase = strAt(pod, "status", "phase");
  let reason = strAt(pod, "status", "reason") || phase;
  for (const c of objsAt(pod, "status", "conditions")) {
    if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
  }

  const initByName = new Map<string, JsonObject>();
  for (const c of specInit) {
    initByName.set(asStr(c.name) ?? "", c);
    if (isRestartable(c)) total++;
  }

  let initializing = false;
  const initStatuses = objsAt(pod, "status", "initContainerStatuses");
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] as JsonObject;
    const count = asNum(cs.restartCount) ?? 0;
    restarts += count;
    lastRestart = later(lastRestart, finishedAt(cs));
    const restartable = isRestartable(initByName.get(asStr(cs.name) ?? ""));
    if (restartable) {
      restartableInitRestarts += count;
      lastRestartableInitRestart = later(lastRestartableInitRestart, finishedAt(cs));
    }
    const terminated = asObj(getPath(cs, "state", "terminated"));
    const waiting = asObj(getPath(cs, "state", "waiting"));
    if (terminated && (asNum(terminated.exitCode) ?? 0) === 0) continue;
    if (restartable && cs.started === true) {
      if (cs.ready === true) ready++;
      continue;
    }
    if (terminated) {
      const r = asStr(terminated.reason) ?? "";
      const signal = asNum(terminated.signal) ?? 0;
      reason = r !== "" ? `Init:${r}` : signal !== 0 ? `Init:Signal:${signal}` : `Init:ExitCode:${asNum(terminated.exitCode) ?? 0}`;
    } else if (waiting && (asStr(waiting.reason) ?? "") !== "" && waiting.reason !== "PodInitializing") {
      reason = `Init:${String(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${specInit.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(pod, "Initialized")) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = objsAt(pod, "status", "containerStatuses");
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] as JsonObject;
      restarts += asNum(cs.restartCount) ?? 0;
      lastRestart = later(lastRestart, finishedAt(cs));
      const waiting = asObj(getPath(cs, "state", "waiting"));
      const terminated = asObj(getPath(cs, "state", "terminated"));
      const running = asObj(getPath(cs, "state", "running"));
      if (waiting && (asStr(waiting.reason) ?? "") !== "") reason = String(waiting.reason);
      else if (terminated && (asStr(terminated.reason) ?? "") !== "") reason = String(terminated.reason);
      else if (terminated) {
        const signal = asNum(terminated.signal) ?? 0;
        reason = signal !== 0 ? `Signal:${signal}` : `ExitCode:${asNum(terminated.exitCode) ?? 0}`;
      } else if (cs.ready === true && running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === "Completed" && hasRunning) reason = hasReadyCondition(pod) ? "Running" : "NotReady";
  }

  const deleting = pod.metadata.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
  if (deleting && strAt(pod, "status", "reason") === "NodeLost") reason = "Unknown";
  else if (deleting && phase !== "Succeeded" && phase !== "Failed") reason = "Terminating";

  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) restartsStr = `${restarts} (${humanDuration(now - lastRestart)} ago)`;
  return { ready: `${ready}/${total}`, status: reason, restarts: restartsStr };
}

function noneIfEmpty(s: string): string {
  return s === "" ? "<none>" : s;
}

function podIP(pod: KubeObject): string {
  const first = objsAt(pod, "status", "podIPs")[0];
  return noneIfEmpty(asStr(first?.ip) ?? strAt(pod, "status", "podIP"));
}

function readinessGates(pod: KubeObject): string {
  const gates = objsAt(pod, "spec", "readinessGates");
  if (gates.length === 0) return "<none>";
  const conditions = objsAt(pod, "status", "conditions");
  let trueCount = 0;
  for (const g of gates) {
    const c = conditions.find((x) => x.type === g.conditionType);
    if (c?.status === "True") trueCount++;
  }
  return `${trueCount}/${gates.length}`;
}

export function podColumns(): TableColumn[] {
  return [
    nameColumn(),
    column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", (o, now) => podSummary(o, now).ready),
    column("Status", "string", "The aggregate status of the containers in this pod.", (o, now) => podSummary(o, now).status),
    column(
      "Restarts",
      "string",
      "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
      (o, now) => podSummary(o, now).restarts,
    ),
    ageColumn(),
    column("IP", "string", "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", podIP, 1),
    column(
      "Node",
      "string",
      "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
      (o) => noneIfEmpty(strAt(o, "spec", "nodeName")),
      1,
    ),
    column(
      "Nominated Node",
      "string",
      "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
      (o) => noneIfEmpty(strAt(o, "status", "nominatedNodeName")),
      1,
    ),
    column(
      "Readiness Gates",
      "string",
      "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
      readinessGates,
      1,
    ),
  ];
}
