/**
 * @module Mapping between Docker's container inspect and the contract's
 * statuses, and the parts of a container's create body that come from its
 * securityContext.
 */
import type { ContainerConfig, ContainerStatus, PodSandboxStatus } from "../../core/runtime/adapter.ts";
import { dockerTime } from "./engine.ts";
import { decodeMap, L } from "./labels.ts";

/** `GET /containers/{id}/json`, as Docker returns it. */
export type Inspect = any;

/** A sandbox's status from its inspect; `network` is the pods' network (the IP's source). */
export function sandboxStatus(i: Inspect, network: string): PodSandboxStatus {
  const l = i.Config.Labels;
  const ip: string | undefined = i.NetworkSettings?.Networks?.[network]?.IPAddress || undefined;
  return {
    id: i.Id,
    config: { uid: l[L.podUid], name: l[L.podName], namespace: l[L.podNamespace], attempt: Number(l[L.attempt]) },
    state: i.State.Running ? "ready" : "notready",
    createdAt: dockerTime(i.Created) ?? 0,
    ...(ip && i.State.Running ? { ip, ips: [ip] } : {}),
    labels: decodeMap(l[L.labels]),
    annotations: decodeMap(l[L.annotations]),
  };
}

/** A container's status from its inspect. */
export function containerStatus(i: Inspect): ContainerStatus {
  const l = i.Config.Labels;
  const st = i.State;
  const startFailed = !st.Running && !!st.Error && !dockerTime(st.StartedAt);
  const state: ContainerStatus["state"] =
    st.Running || st.Paused || st.Restarting ? "running" : st.Status === "created" && !startFailed ? "created" : st.Status === "exited" || st.Status === "dead" || startFailed ? "exited" : "unknown";
  const startedAt = dockerTime(st.StartedAt);
  const finishedAt = state === "exited" ? (dockerTime(st.FinishedAt) ?? startedAt ?? dockerTime(i.Created)) : undefined;
  let reason: string | undefined;
  if (state === "exited") reason = startFailed ? "StartError" : st.OOMKilled ? "OOMKilled" : st.ExitCode === 0 ? "Completed" : "Error";
  return {
    id: i.Id,
    podSandboxId: l[L.sandbox],
    name: l[L.name],
    attempt: Number(l[L.attempt]),
    state,
    createdAt: dockerTime(i.Created) ?? 0,
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    ...(state === "exited" ? { exitCode: startFailed && !st.ExitCode ? 128 : st.ExitCode, reason: reason! } : {}),
    ...(state === "exited" && st.Error ? { message: st.Error } : {}),
    image: i.Config.Image,
    imageRef: i.Image,
    logPath: l[L.logPath] ?? "",
    labels: decodeMap(l[L.labels]),
    annotations: decodeMap(l[L.annotations]),
    ...(st.Pid ? { info: { pid: String(st.Pid) } } : {}),
  };
}

/** The optional `securityContext` of a ContainerConfig (when the agent passes one) as HostConfig/Config fields. */
export function securityContext(config: ContainerConfig): { config: Record<string, unknown>; host: Record<string, unknown> } {
  const sc = config.securityContext;
  if (!sc) return { config: {}, host: {} };
  const user = sc.runAsUser !== undefined ? `${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ""}` : undefined;
  return {
    config: user !== undefined ? { User: user } : {},
    host: {
      ...(sc.privileged ? { Privileged: true } : {}),
      ...(sc.readOnlyRootFilesystem ? { ReadonlyRootfs: true } : {}),
      ...(sc.capabilities?.add?.length ? { CapAdd: sc.capabilities.add } : {}),
      ...(sc.capabilities?.drop?.length ? { CapDrop: sc.capabilities.drop } : {}),
    },
  };
}
