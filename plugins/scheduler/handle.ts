/** @module The SchedulerHandle given to plugins before the scheduler exists; it forwards to the scheduler once started. */
import type { KubeObject } from "../../core/api/meta.ts";
import type { Client } from "../../core/client/types.ts";
import type { CycleState, NodeInfo, PodInfo, SchedulerHandle, Snapshot, Status, WaitingPod } from "../../core/plugin/scheduler-framework.ts";
import type { EventSink } from "../../core/plugin/types.ts";
import type { Scheduler } from "./scheduler.ts";

/**
 * The SchedulerHandle registered at `register` time, before any scheduler
 * exists; it forwards to the scheduler once `start` has created it.
 */
export class HandleProxy implements SchedulerHandle {
  target: Scheduler | undefined;

  #t(): Scheduler {
    if (!this.target) throw new Error("the scheduler has not started");
    return this.target;
  }
  get schedulerName(): string {
    return this.#t().schedulerName;
  }
  get client(): Client {
    return this.#t().client;
  }
  get events(): EventSink {
    return this.#t().events;
  }
  snapshot(): Snapshot {
    return this.#t().snapshot();
  }
  nominatedPods(nodeName: string): readonly PodInfo[] {
    return this.#t().nominatedPods(nodeName);
  }
  waitingPod(uid: string): WaitingPod | undefined {
    return this.#t().waitingPod(uid);
  }
  waitingPods(): WaitingPod[] {
    return this.#t().waitingPods();
  }
  runFilters(state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    return this.#t().runFilters(state, pod, node);
  }
  runPreFilterAddPod(state: CycleState, pod: PodInfo, podToAdd: PodInfo, node: NodeInfo): Status {
    return this.#t().runPreFilterAddPod(state, pod, podToAdd, node);
  }
  runPreFilterRemovePod(state: CycleState, pod: PodInfo, podToRemove: PodInfo, node: NodeInfo): Status {
    return this.#t().runPreFilterRemovePod(state, pod, podToRemove, node);
  }
  podInfo(pod: KubeObject): PodInfo {
    return this.#t().podInfo(pod);
  }
}
