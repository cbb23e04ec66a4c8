/**
 * @module The plugin contract. A plugin is a plain object — a manifest plus
 * `register` / `start` / `stop` — exported by a module; nothing registers
 * itself as an import side effect. The kernel's `PluginHost` validates its
 * config, orders it after what it `requires`, calls `register(container)`
 * once, then `start(ctx)`; a plugin that throws is logged, reported and
 * restarted with backoff without taking the kernel down.
 *
 * Plugins reach the kernel only through `ctx.client` (in-process in the
 * server, HTTP in an agent), so the same plugin runs in both places.
 * Third-party packages should only `import type` from "skiff": everything
 * they need at run time arrives in the context.
 */
import type { DependencyContainer } from "tsyringe";
import type { ResourceTypeInit } from "../api/registry.ts";
import type { KubeObject } from "../api/meta.ts";
import type { InvolvedObject } from "../client/events.ts";
import type { Client, InformerFactory, Reconciler } from "../client/types.ts";
import type { Logger } from "../log.ts";
import type { Tokens } from "./tokens.ts";

/** A JSON Schema (draft 2020-12 subset that ajv accepts) for a plugin's config. */
export type ConfigSchema = Record<string, unknown>;

/** Where a plugin runs: in the server process, in an agent, or both. */
export type PluginRole = "server" | "agent";

export interface PluginManifest {
  /** Unique among loaded plugins; DNS-1123-like (`scheduler`, `acme-widgets`). */
  name: string;
  version: string;
  description?: string;
  /**
   * Capabilities this plugin offers to others (`scheduler`, `node-agent`,
   * `runtime:process`, `controller:replicaset`). Its own name is always provided.
   */
  provides?: string[];
  /** Plugin names or capabilities that must be enabled and started first. */
  requires?: string[];
  /** Validated before anything starts; errors name the plugin and the field. */
  configSchema?: ConfigSchema;
  /** Default `["server"]`. */
  roles?: PluginRole[];
  /**
   * Who the plugin acts as when it runs inside the server process: its
   * `ctx.client` carries this identity, and the server authorizes (RBAC, the
   * Node authorizer) and admits (NodeRestriction) its requests like any other
   * user's. A user (`system:kube-scheduler`), a ServiceAccount
   * (`serviceAccountIdentity("kube-system", "deployment-controller")`), or a
   * function of where it runs (the node agent is `system:node:<nodeName>`).
   * `"kernel"` keeps the kernel's own identity (system:masters; for admission
   * steps, which are part of the API server). Omitted: the kernel's identity,
   * with a warning at start (when the server authorizes). In an agent process every plugin acts as the
   * node (the agent's credentials). See `core/plugin/README.md`.
   */
  identity?: PluginIdentitySpec;
}

/** A plugin's identity: upstream's user.Info without uid and extra (`system:authenticated` is always added). */
export interface PluginIdentity {
  /** `system:kube-scheduler`, `system:serviceaccount:kube-system:deployment-controller`, `system:node:n1`. */
  user: string;
  groups?: string[];
}

/** What an identity function sees: called at each start, after the plugins it requires have started. */
export interface PluginIdentityEnv {
  nodeName?: string;
  container: DependencyContainer;
}

export type PluginIdentitySpec = PluginIdentity | "kernel" | ((env: PluginIdentityEnv) => PluginIdentity | "kernel");

/** What `start` may return: undoes that run (closes servers, removes rules). */
export type Cleanup = () => Promise<void> | void;

/** Cancellable work the host supervises: a rejection counts as the plugin failing. */
export type Task = (signal: AbortSignal) => Promise<void>;

export interface EventSink {
  /** Records an Event about an object (the object itself or a reference to it). Never throws. */
  record(involved: InvolvedObject | KubeObject, type: "Normal" | "Warning", reason: string, message: string): void;
}

export interface PluginContext<C = Record<string, unknown>> {
  /** The plugin's name, as in its manifest. */
  readonly name: string;
  /** Its validated config (defaults from the schema applied). */
  readonly config: C;
  /** In the server: acts as the manifest's `identity` (authorized by RBAC); in an agent: the node's credentials. */
  readonly client: Client;
  /** Informers shared by every plugin in this process. */
  readonly informers: InformerFactory;
  readonly container: DependencyContainer;
  readonly log: Logger;
  /** Aborted when the plugin is stopped (or restarted). */
  readonly signal: AbortSignal;
  readonly events: EventSink;
  readonly role: PluginRole;
  /** The node this process acts for (agents and all-in-one). */
  readonly nodeName?: string;
  /**
   * Runs `task` until the plugin stops; if it rejects, the plugin is marked
   * failed and restarted with backoff. Use for every long-running loop.
   */
  spawn(name: string, task: Task): void;
  /** Runs a reconciler on a work queue with `workers` workers; returns the queue to feed. */
  controller(reconciler: Reconciler, opts?: { workers?: number }): { enqueue(key: string): void; enqueueAfter(key: string, ms: number): void };
}

export interface Plugin<C = Record<string, unknown>> {
  readonly manifest: PluginManifest;
  /**
   * Binds what the plugin offers into the container (extension points,
   * services). Called once. `tokens` is the kernel's token table, so that a
   * third-party package needs no run-time import from skiff.
   */
  register?(container: DependencyContainer, config: C, tokens: typeof Tokens): void;
  /**
   * Starts the plugin's work; may be called again after a failure (with a
   * fresh context). It may return a cleanup function, called when this run
   * stops: keep per-run state in its closure, since one plugin object can be
   * run by several kernels in one process.
   */
  start?(ctx: PluginContext<C>): Promise<Cleanup | void> | Cleanup | void;
  /** Stops it (after the run's cleanup); the context's signal is already aborted. */
  stop?(): Promise<void> | void;
}

/** Identity helper that keeps the config type: `export default definePlugin<MyConfig>({...})`. */
export function definePlugin<C = Record<string, unknown>>(plugin: Plugin<C>): Plugin<C> {
  return plugin;
}

// ---- extension points ------------------------------------------------------
// One small interface per point. Plugins register implementations with
// `container.register(Tokens.X, { useValue })`; the consumer resolves them
// with `container.resolveAll(Tokens.X)` (several may be registered).

/** Adds kinds (like a CRD, but with a typed schema and strategy) to the API server. */
export interface ApiExtension {
  types(): ResourceTypeInit[];
}

export interface AdmissionRequest {
  operation: "CREATE" | "UPDATE" | "DELETE";
  group: string;
  version: string;
  resource: string;
  subresource?: string;
  namespace: string;
  name: string;
  /** The object after defaulting (CREATE/UPDATE); a private copy a mutating step may change. */
  object?: Record<string, unknown>;
  oldObject?: Record<string, unknown>;
  dryRun: boolean;
  /** Who sent the request (upstream's user.Info); absent when the server runs without authentication. */
  userInfo?: { username: string; groups: string[]; uid?: string; extra?: Record<string, string[]> };
  /** Warnings for the client (the `Warning: 299` response header kubectl prints); a step may append. */
  warnings?: string[];
}

/**
 * An admission step. `mutate` runs first (in registration order) and may change
 * `req.object`; `validate` runs after and rejects by throwing an ApiError
 * (Forbidden or Invalid). Both must be quick and must not write through the client
 * (the one exception is ResourceQuota's charge of the quota's status, as upstream).
 */
export interface Admission {
  readonly name: string;
  /** Which resources it wants (`pods`, `deployments.apps`); omit for all. */
  readonly resources?: string[];
  /** Which operations it wants (upstream's `Handles`); omit for all. */
  readonly operations?: AdmissionRequest["operation"][];
  mutate?(req: AdmissionRequest): void | Promise<void>;
  validate?(req: AdmissionRequest): void | Promise<void>;
}

/** The network proxy: makes Service virtual IPs and NodePorts reach ready endpoints. */
export interface NetworkProxy {
  readonly name: string;
  /** Whether it can program this machine (e.g. root and nftables present), with a reason when not. */
  available(): Promise<{ ok: true } | { ok: false; reason: string }>;
  start(ctx: PluginContext): Promise<void>;
  stop(): Promise<void>;
}
