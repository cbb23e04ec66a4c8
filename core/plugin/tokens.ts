/**
 * @module Every DI token the kernel and its plugins share, in one place.
 * Resolve single services with `container.resolve(Tokens.X)` and extension
 * points (several implementations) with `container.resolveAll(Tokens.X)`.
 */
import type { InjectionToken } from "tsyringe";
import type { Client, InformerFactory } from "../client/types.ts";
import type { Logger } from "../log.ts";
import type { RuntimeAdapter } from "../runtime/adapter.ts";
import type {
  BindPlugin,
  FilterPlugin,
  PermitPlugin,
  PostFilterPlugin,
  PreFilterPlugin,
  PreScorePlugin,
  ReservePlugin,
  SchedulerHandle,
  ScorePlugin,
} from "./scheduler-framework.ts";
import type { Admission, ApiExtension, EventSink, NetworkProxy } from "./types.ts";

function token<T>(name: string): InjectionToken<T> {
  return Symbol.for(`skiff.${name}`) as InjectionToken<T>;
}

export const Tokens = {
  // ---- kernel services (registered by the host) ----
  /** The client this process uses (in-process in the server, HTTP in an agent). */
  Client: token<Client>("Client"),
  Informers: token<InformerFactory>("Informers"),
  Events: token<EventSink>("Events"),
  Logger: token<Logger>("Logger"),
  /** `"server"` or `"agent"`. */
  Role: token<string>("Role"),
  /** The node this process acts for, when it has one. */
  NodeName: token<string>("NodeName"),
  /** The runtime adapter the node agent should use (`process`, `containerd`, …). */
  RuntimeName: token<string>("RuntimeName"),
  /** The cluster DNS server's addresses, when the dns plugin runs (`plugins/dns`). */
  ClusterDns: token<{ addresses(): { host: string; port: number }[]; zone: string }>("ClusterDns"),
  /** The data directory (server) or state directory (agent). */
  DataDir: token<string>("DataDir"),

  // ---- extension points (plugins register, consumers resolveAll) ----
  ApiExtension: token<ApiExtension>("ApiExtension"),
  Admission: token<Admission>("Admission"),
  NetworkProxy: token<NetworkProxy>("NetworkProxy"),
  /**
   * Scheduler framework plugins, one token per extension point (see
   * core/plugin/scheduler-framework.ts). NormalizeScore is part of a Score
   * plugin. The scheduler resolves them all when it starts.
   */
  SchedulerPreFilter: token<PreFilterPlugin>("SchedulerPreFilter"),
  SchedulerFilter: token<FilterPlugin>("SchedulerFilter"),
  SchedulerPostFilter: token<PostFilterPlugin>("SchedulerPostFilter"),
  SchedulerPreScore: token<PreScorePlugin>("SchedulerPreScore"),
  SchedulerScore: token<ScorePlugin>("SchedulerScore"),
  SchedulerReserve: token<ReservePlugin>("SchedulerReserve"),
  SchedulerPermit: token<PermitPlugin>("SchedulerPermit"),
  SchedulerBind: token<BindPlugin>("SchedulerBind"),
  /** The running scheduler's services for plugins (registered by the scheduler plugin). */
  SchedulerHandle: token<SchedulerHandle>("SchedulerHandle"),
  /** Container runtimes (see core/runtime/adapter.ts), selected by name. */
  RuntimeAdapter: token<RuntimeAdapter>("RuntimeAdapter"),
} as const;
