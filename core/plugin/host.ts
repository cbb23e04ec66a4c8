/**
 * @module The plugin host: registers, starts, supervises and stops plugins.
 *
 * - `register(container, config)` runs once per plugin, in start order, into
 *   one shared child container that already holds the kernel's services.
 * - `start(ctx)` runs in order. A plugin whose `start` throws, or whose
 *   supervised work (`ctx.spawn`, `ctx.controller`) fails, is logged with its
 *   name, reported (`/readyz?verbose` through `checks()`, and an Event), and
 *   restarted with backoff (1 s doubling to 60 s; back to 1 s after 5 minutes
 *   up). The other plugins and the kernel keep running.
 * - `stop()` stops plugins in reverse order, aborting their contexts first.
 * - Identity: with `clientFor` (the kernel), each run's `ctx.client` acts as
 *   the plugin's declared `identity` (resolved at each start); without it
 *   (an agent process, tests), every plugin uses `client`.
 */
import { rootContainer, type DependencyContainer } from "./di.ts";
import { Controller } from "../client/controller.ts";
import type { Client, InformerFactory, Reconciler } from "../client/types.ts";
import type { Logger } from "../log.ts";
import { identityKey, resolveIdentity } from "./identity.ts";
import { ScopedInformers } from "./scoped-informers.ts";
import { Tokens } from "./tokens.ts";
import type { Cleanup, EventSink, Plugin, PluginContext, PluginIdentity, PluginRole, Task } from "./types.ts";

export type PluginState = "registered" | "starting" | "running" | "failed" | "stopped";

export interface PluginStatus {
  name: string;
  version: string;
  state: PluginState;
  restarts: number;
  /** The last failure's message while failed. */
  error?: string;
  /** The user its client acts as (with `clientFor`; absent: the host's client). */
  user?: string;
}

export interface PluginHostOptions {
  role: PluginRole;
  /** The kernel's client: `Tokens.Client`, and `ctx.client` of plugins without an identity of their own. */
  client: Client;
  /**
   * Builds the client a plugin identity acts through (one per plugin and
   * identity, reused across restarts). Omitted: every plugin uses `client`.
   */
  clientFor?: (identity: PluginIdentity, plugin: string) => Client;
  /** Whether the server authorizes plugins' requests (security on): a plugin without an identity is then a warning, else an info line. */
  authorizing?: boolean;
  informers: InformerFactory;
  events: EventSink;
  log: Logger;
  nodeName?: string;
  dataDir?: string;
  /** Backoff bounds, for tests. */
  backoff?: { initialMs: number; maxMs: number; resetAfterMs: number };
  /** How long to wait for a stopping plugin's tasks and `stop` (default 10 s); then it is abandoned with a warning. */
  stopTimeoutMs?: number;
}

interface Running {
  plugin: Plugin<never>;
  config: Record<string, unknown>;
  state: PluginState;
  restarts: number;
  error?: string;
  /** The user of its current run's client, when it has its own. */
  user?: string | undefined;
  abort: AbortController;
  tasks: Promise<void>[];
  controllers: Controller[];
  informers?: ScopedInformers | undefined;
  cleanup?: Cleanup | undefined;
  startedAt: number;
  delayMs: number;
  timer?: ReturnType<typeof setTimeout>;
  /** Bumped on every (re)start so a late failure of an old run is ignored. */
  generation: number;
}

const DEFAULT_BACKOFF = { initialMs: 1000, maxMs: 60_000, resetAfterMs: 5 * 60_000 };

export class PluginHost {
  readonly container: DependencyContainer;
  readonly #runs: Running[] = [];
  readonly #backoff: typeof DEFAULT_BACKOFF;
  readonly #clients = new Map<string, Client>();
  readonly #warnedKernel = new Set<string>();
  #stopping = false;

  constructor(private readonly opts: PluginHostOptions) {
    this.#backoff = opts.backoff ?? DEFAULT_BACKOFF;
    const c = rootContainer.createChildContainer();
    c.register(Tokens.Client, { useValue: opts.client });
    c.register(Tokens.Informers, { useValue: opts.informers });
    c.register(Tokens.Events, { useValue: opts.events });
    c.register(Tokens.Logger, { useValue: opts.log });
    c.register(Tokens.Role, { useValue: opts.role });
    if (opts.nodeName !== undefined) c.register(Tokens.NodeName, { useValue: opts.nodeName });
    if (opts.dataDir !== undefined) c.register(Tokens.DataDir, { useValue: opts.dataDir });
    this.container = c;
  }

  /**
   * Calls `register` on each plugin (in the given order, which must be the
   * start order from `PluginRegistry.resolve`). A throwing `register` is a
   * startup error naming the plugin: registration is wiring, not work.
   */
  register(plugins: readonly Plugin<never>[], configs: ReadonlyMap<string, Record<string, unknown>>): void {
    for (const plugin of plugins) {
      const config = configs.get(plugin.manifest.name) ?? {};
      try {
        plugin.register?.(this.container, config as never, Tokens);
      } catch (e) {
        throw new Error(`plugin "${plugin.manifest.name}": register failed: ${(e as Error).message}`);
      }
      this.#runs.push({
        plugin,
        config,
        state: "registered",
        restarts: 0,
        abort: new AbortController(),
        tasks: [],
        controllers: [],
        startedAt: 0,
        delayMs: this.#backoff.initialMs,
        generation: 0,
      });
    }
  }

  /** Starts every registered plugin in order; failures are supervised, never thrown. */
  async start(): Promise<void> {
    for (const run of this.#runs) {
      if (this.#stopping) return;
      await this.#start(run);
    }
  }

  status(): PluginStatus[] {
    return this.#runs.map((r) => ({
      name: r.plugin.manifest.name,
      version: r.plugin.manifest.version,
      state: r.state,
      restarts: r.restarts,
      ...(r.error !== undefined ? { error: r.error } : {}),
      ...(r.user !== undefined ? { user: r.user } : {}),
    }));
  }

  /** Readiness checks, `plugin/<name>`: while a plugin is failed, why (and that it restarts). */
  checks(): Record<string, () => true | string> {
    const out: Record<string, () => true | string> = {};
    for (const r of this.#runs) {
      out[`plugin/${r.plugin.manifest.name}`] = () => (r.state === "failed" ? `${r.error ?? "failed"} (restarting)` : true);
    }
    return out;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const run of [...this.#runs].reverse()) {
      clearTimeout(run.timer);
      await this.#halt(run);
      run.state = "stopped";
    }
  }

  async #start(run: Running): Promise<void> {
    const name = run.plugin.manifest.name;
    const generation = ++run.generation;
    run.abort = new AbortController();
    run.tasks = [];
    run.controllers = [];
    run.state = "starting";
    run.startedAt = Date.now();
    let ctx: PluginContext;
    try {
      ctx = this.#context(run, generation);
    } catch (e) {
      await this.#fail(run, generation, e, "identity");
      return;
    }
    try {
      const cleanup = await run.plugin.start?.(ctx as never);
      if (typeof cleanup === "function") run.cleanup = cleanup;
      if (run.generation === generation && run.state === "starting") {
        run.state = "running";
        delete run.error;
        this.opts.log.info({ plugin: name, version: run.plugin.manifest.version }, "plugin started");
      }
    } catch (e) {
      await this.#fail(run, generation, e, "start");
    }
  }

  #context(run: Running, generation: number): PluginContext {
    const name = run.plugin.manifest.name;
    const signal = run.abort.signal;
    const log = this.opts.log.child({ plugin: name });
    const host = this;
    const client = this.#clientOf(run);
    run.informers = new ScopedInformers(this.opts.informers, name);
    return {
      name,
      config: run.config,
      client,
      informers: run.informers,
      container: this.container,
      log,
      signal,
      events: this.opts.events,
      role: this.opts.role,
      ...(this.opts.nodeName !== undefined ? { nodeName: this.opts.nodeName } : {}),
      spawn(taskName: string, task: Task) {
        if (signal.aborted) return;
        const p = (async () => {
          try {
            await task(signal);
          } catch (e) {
            // Not awaited: #fail waits for this very task to settle.
            if (!signal.aborted) void host.#fail(run, generation, e, taskName);
          }
        })();
        run.tasks.push(p);
      },
      controller(reconciler: Reconciler, o: { workers?: number } = {}) {
        const c = new Controller(reconciler, { workers: o.workers ?? 1 });
        run.controllers.push(c);
        if (!signal.aborted) c.start();
        return {
          enqueue: (key: string) => c.queue.add(key),
          enqueueAfter: (key: string, ms: number) => c.queue.addAfter(key, ms),
        };
      },
    };
  }

  /** The run's client: its declared identity's (with `clientFor`), else the host's. */
  #clientOf(run: Running): Client {
    run.user = undefined;
    const clientFor = this.opts.clientFor;
    // Without `start` a plugin never sees a context (runtime adapters, pure admission wiring).
    if (!clientFor || !run.plugin.start) return this.opts.client;
    const name = run.plugin.manifest.name;
    const identity = resolveIdentity(run.plugin.manifest, {
      container: this.container,
      ...(this.opts.nodeName !== undefined ? { nodeName: this.opts.nodeName } : {}),
    });
    if (identity === undefined && !this.#warnedKernel.has(name)) {
      this.#warnedKernel.add(name);
      const level = this.opts.authorizing ? "warn" : "info";
      this.opts.log[level]({ plugin: name }, "plugin declares no identity: it acts as the kernel (system:masters); declare manifest.identity to run it least-privileged");
    }
    if (identity === undefined || identity === "kernel") return this.opts.client;
    const key = `${name}|${identityKey(identity)}`;
    let client = this.#clients.get(key);
    if (!client) this.#clients.set(key, (client = clientFor(identity, name)));
    run.user = identity.user;
    return client;
  }

  async #fail(run: Running, generation: number, e: unknown, where: string): Promise<void> {
    if (run.generation !== generation || this.#stopping || run.state === "failed") return;
    const name = run.plugin.manifest.name;
    const message = e instanceof Error ? e.message : String(e);
    run.state = "failed";
    run.error = message;
    if (run.startedAt && Date.now() - run.startedAt >= this.#backoff.resetAfterMs) run.delayMs = this.#backoff.initialMs;
    const delay = run.delayMs;
    run.delayMs = Math.min(run.delayMs * 2, this.#backoff.maxMs);
    this.opts.log.error({ plugin: name, where, err: message, restartInMs: delay }, "plugin failed");
    this.opts.events.record(
      { apiVersion: "v1", kind: "Plugin", name, namespace: "kube-system" },
      "Warning",
      "PluginFailed",
      `plugin ${name} failed in ${where}: ${message}; restarting in ${Math.round(delay / 1000)}s`,
    );
    await this.#halt(run);
    if (this.#stopping) return;
    run.timer = setTimeout(() => {
      if (this.#stopping) return;
      run.restarts++;
      void this.#start(run);
    }, delay);
  }

  /** Aborts a run's context, stops its controllers, waits for its tasks, calls `stop`. */
  async #halt(run: Running): Promise<void> {
    run.abort.abort();
    const name = run.plugin.manifest.name;
    run.informers?.release();
    const work = (async () => {
      await Promise.allSettled(run.controllers.map((c) => c.stop()));
      await Promise.allSettled(run.tasks);
      const cleanup = run.cleanup;
      run.cleanup = undefined;
      try {
        await cleanup?.();
        await run.plugin.stop?.();
      } catch (e) {
        this.opts.log.warn({ plugin: name, err: (e as Error).message }, "plugin stop failed");
      }
    })();
    // A plugin that ignores its abort signal must not hang the kernel's shutdown.
    const ms = this.opts.stopTimeoutMs ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms)));
    if ((await Promise.race([work, late])) === "late") {
      this.opts.log.warn({ plugin: name, ms }, "plugin did not stop in time; abandoning it");
    }
    clearTimeout(timer);
  }
}
