/**
 * @module How a built-in controller plugin runs: `controllerPlugin(def)` makes
 * a Plugin whose `start` campaigns for the plugin's Lease (leader-election.ts)
 * and, while it leads, runs `def.run(term)`. A *term* is one stretch of
 * leadership: it has its own controllers (work queues + workers) and its
 * informer handlers fall silent when it ends, so a server that loses the
 * Lease stops acting at once and starts afresh (informers list everything
 * again: level-based) if it wins it back.
 *
 * Config every controller plugin accepts:
 * `leaderElection: { enabled: true, leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 }`
 * and `workers` (the plugin's default).
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import { Controller } from "../../../core/client/controller.ts";
import type { Client, Informer, InformerFactory, InformerHandlers, Reconciler } from "../../../core/client/types.ts";
import type { Logger } from "../../../core/log.ts";
import { serviceAccountIdentity } from "../../../core/plugin/identity.ts";
import type { ConfigSchema, EventSink, Plugin, PluginContext } from "../../../core/plugin/types.ts";
import { ControllerEvents } from "./events.ts";
import { LeaderElector } from "./leader-election.ts";

export interface ControllerConfig {
  leaderElection: { enabled: boolean; leaseDurationSeconds: number; renewDeadlineSeconds: number; retryPeriodSeconds: number };
  workers: number;
  [k: string]: unknown;
}

/** What `run` gets for one term of leadership. */
export interface Term<C extends ControllerConfig = ControllerConfig> {
  readonly client: Client;
  readonly informers: InformerFactory;
  readonly log: Logger;
  /** Spam-filtered events from this controller's component (`replicaset-controller` …). */
  readonly events: EventSink;
  readonly config: C;
  /** Aborted when the term ends (leadership lost, plugin stopped). */
  readonly signal: AbortSignal;
  /** Starts a reconciler on its own queue; stopped at the end of the term. */
  controller(reconciler: Reconciler, opts?: { workers?: number }): Queue;
  /** Registers informer handlers that do nothing once the term has ended. */
  on<T extends KubeObject>(informer: Informer<T>, handlers: InformerHandlers<T>): void;
  /** Waits for the informers' first lists (or the end of the term). */
  waitForSync(...informers: Informer<never>[]): Promise<void>;
}

export interface Queue {
  enqueue(key: string): void;
  enqueueAfter(key: string, ms: number): void;
}

export interface ControllerPluginDef<C extends ControllerConfig> {
  name: string;
  description: string;
  provides: string[];
  /** `source.component` of the Events it records. */
  component: string;
  /**
   * The ServiceAccount in kube-system it acts as (upstream's controller
   * names: `system:serviceaccount:kube-system:<sa>`, bound to
   * `system:controller:<sa>` by the bootstrap policy). Default: `name`.
   */
  serviceAccount?: string;
  defaultWorkers: number;
  /** Extra config properties (JSON Schema) beyond leaderElection and workers. */
  configProperties?: Record<string, unknown>;
  /**
   * Starts the controller for one term: creates informers, registers
   * handlers with `term.on`, waits for sync, starts controllers. Returns once
   * running; the term ends when `term.signal` aborts.
   */
  run(term: Term<C>): Promise<void>;
}

/** The config schema every controller plugin shares, plus its own properties. */
function configSchema(def: { defaultWorkers: number; configProperties?: Record<string, unknown> }): ConfigSchema {
  return {
    type: "object",
    additionalProperties: false,
    properties: {
      leaderElection: {
        type: "object",
        additionalProperties: false,
        default: {},
        properties: {
          enabled: { type: "boolean", default: true },
          leaseDurationSeconds: { type: "number", exclusiveMinimum: 0, default: 15 },
          renewDeadlineSeconds: { type: "number", exclusiveMinimum: 0, default: 10 },
          retryPeriodSeconds: { type: "number", exclusiveMinimum: 0, default: 2 },
        },
      },
      workers: { type: "integer", minimum: 1, maximum: 64, default: def.defaultWorkers },
      ...def.configProperties,
    },
  };
}

/** Fills defaults for callers that bypass the plugin host's schema (tests, embedding). */
export function withDefaults<C extends ControllerConfig>(def: { defaultWorkers: number }, config: Partial<C> | undefined): C {
  const le = (config?.leaderElection ?? {}) as Partial<ControllerConfig["leaderElection"]>;
  return {
    ...config,
    workers: config?.workers ?? def.defaultWorkers,
    leaderElection: {
      enabled: le.enabled ?? true,
      leaseDurationSeconds: le.leaseDurationSeconds ?? 15,
      renewDeadlineSeconds: le.renewDeadlineSeconds ?? 10,
      retryPeriodSeconds: le.retryPeriodSeconds ?? 2,
    },
  } as C;
}

class TermImpl<C extends ControllerConfig> implements Term<C> {
  readonly controllers: Controller[] = [];
  constructor(
    readonly client: Client,
    readonly informers: InformerFactory,
    readonly log: Logger,
    readonly events: EventSink,
    readonly config: C,
    readonly signal: AbortSignal,
  ) {}

  controller(reconciler: Reconciler, opts: { workers?: number } = {}): Queue {
    const c = new Controller(reconciler, { workers: opts.workers ?? this.config.workers, log: this.log });
    this.controllers.push(c);
    if (!this.signal.aborted) c.start();
    return { enqueue: (k) => c.queue.add(k), enqueueAfter: (k, ms) => c.queue.addAfter(k, ms) };
  }

  on<T extends KubeObject>(informer: Informer<T>, h: InformerHandlers<T>): void {
    const s = this.signal;
    informer.on({
      ...(h.add ? { add: (o: T) => void (s.aborted || h.add!(o)) } : {}),
      ...(h.update ? { update: (a: T, b: T) => void (s.aborted || h.update!(a, b)) } : {}),
      ...(h.delete ? { delete: (o: T) => void (s.aborted || h.delete!(o)) } : {}),
    });
  }

  async waitForSync(...informers: Informer<never>[]): Promise<void> {
    const aborted = new Promise<void>((r) => this.signal.addEventListener("abort", () => r(), { once: true }));
    await Promise.race([Promise.all(informers.map((i) => i.waitForSync())), aborted]);
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.controllers.map((c) => c.stop()));
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((r) => (signal.aborted ? r() : signal.addEventListener("abort", () => r(), { once: true })));
}

/** A Plugin running `def` under leader election. */
export function controllerPlugin<C extends ControllerConfig>(def: ControllerPluginDef<C>): Plugin<C> {
  let events: ControllerEvents | undefined;
  return {
    manifest: {
      name: def.name,
      version: "0.1.0",
      description: def.description,
      provides: def.provides,
      roles: ["server"],
      configSchema: configSchema(def),
      identity: serviceAccountIdentity("kube-system", def.serviceAccount ?? def.name),
    },
    start(ctx: PluginContext<C>) {
      const config = withDefaults<C>(def, ctx.config);
      events = new ControllerEvents(ctx.client, def.component, { log: ctx.log });
      const sink = events;
      const lead = async (term: AbortSignal) => {
        const t = new TermImpl<C>(ctx.client, ctx.informers, ctx.log, sink, config, term);
        try {
          await def.run(t);
          await untilAborted(term);
        } finally {
          await t.stop();
        }
      };
      const le = config.leaderElection;
      if (!le.enabled) {
        ctx.spawn("controller", lead);
        return;
      }
      const elector = new LeaderElector(
        ctx.client,
        {
          name: def.name,
          leaseDurationMs: le.leaseDurationSeconds * 1000,
          renewDeadlineMs: le.renewDeadlineSeconds * 1000,
          retryPeriodMs: le.retryPeriodSeconds * 1000,
        },
        ctx.log,
      );
      ctx.spawn("leader-election", (signal) => elector.run(signal, lead));
    },
    async stop() {
      await events?.flush();
    },
  };
}
