#!/usr/bin/env bun
/**
 * @module The `skiff` command.
 *
 * - `skiff server`: the API server with its plugins (all-in-one by default:
 *   data in ./.skiff, API on 127.0.0.1:6443, process runtime).
 * - `skiff agent`: joins this machine to a server as a node.
 * - `skiff plugins list | add | remove`: third-party plugins.
 * - `skiff secrets rotate-key | rewrite | prune-keys | status`: the keys
 *   that encrypt Secrets at rest (offline: the server must be stopped to
 *   rewrite or prune).
 * - `skiff images import <file.tar>`: loads an image archive into the
 *   runtime's image store (any runtime adapter with `capabilities.imageStore`).
 *
 * Settings come from flags, then the config file (`--config`, default
 * `<data-dir>/skiff.yaml` when it exists), then defaults. Every error is one
 * line on stderr and a non-zero exit.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { basename, join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { isApiError } from "../api/errors.ts";
import { EventRecorder } from "../client/events.ts";
import { httpClient } from "../client/fetch-client.ts";
import { SharedInformerFactory } from "../client/informer.ts";
import { createKernel, selectPlugins } from "../kernel.ts";
import { JoinError, joinCluster } from "../server/pki/node-join.ts";
import { certSha256 } from "../server/pki/x509.ts";
import { BOOTSTRAP_SECRET_TYPE, bootstrapTokenSecret, formatJoinToken, generateBootstrapToken, secretData, TOKEN_NAMESPACE } from "../server/auth/bootstrap-tokens.ts";
import { yamlLib } from "../lazy.ts";
import { tlsFetch } from "../server/pki/tls-client.ts";
import { TypeRegistry } from "../api/registry.ts";
import { EncryptingStore, KeySet, keysInUse, lockDataDir, rewriteAll, serverHolding } from "../server/encryption/index.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import { builtinTypes } from "../types/index.ts";
import { logger } from "../log.ts";
import { loadConfig, pluginConfig, type PluginSettings, PRESETS, type PresetName, saveConfig, type SkiffConfig } from "../plugin/config.ts";
import { rootContainer } from "../plugin/di.ts";
import { PluginHost } from "../plugin/host.ts";
import { installPlugin, loadInstalled, uninstallPlugin } from "../plugin/loader.ts";
import { availableRuntimes, enabledPlugins } from "../plugin/presets.ts";
import { PluginError, PluginRegistry } from "../plugin/registry.ts";
import { Tokens } from "../plugin/tokens.ts";
import type { Plugin } from "../plugin/types.ts";
import type { RuntimeAdapter, RuntimeHealth } from "../runtime/adapter.ts";
import { builtinPlugins } from "../../plugins/index.ts";

function hostPort(v: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`expected HOST:PORT, got ${JSON.stringify(v)}`);
  }
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function nameList(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(",").map((s) => s.trim()).filter(Boolean)];
}

/** A DNS-1123 node name from the host name. */
function defaultNodeName(): string {
  return (
    hostname()
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, "-")
      .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "") || "skiff-node"
  );
}

interface Common {
  config?: string;
  dataDir?: string;
}

/** The config file in effect, the data dir, and where the config is (or would be) saved. */
function settings(o: Common, defaultDataDir: string): { config: SkiffConfig; dataDir: string; file: string } {
  if (o.config) {
    const config = loadConfig(o.config);
    return { config, dataDir: o.dataDir ?? config.dataDir ?? defaultDataDir, file: o.config };
  }
  const dataDir = o.dataDir ?? defaultDataDir;
  const file = join(dataDir, "skiff.yaml");
  const config = loadConfig(file, true);
  return { config, dataDir: config.dataDir ?? dataDir, file };
}

/** Built-ins plus installed plugins (package name by plugin name); a name clash is an error naming both. */
async function availablePlugins(dataDir: string): Promise<{ plugins: Plugin<never>[]; packages: Map<string, string> }> {
  const reg = new PluginRegistry();
  for (const p of builtinPlugins()) reg.add(p);
  const packages = new Map<string, string>();
  for (const i of await loadInstalled(dataDir)) {
    reg.add(i.plugin, `package ${i.package}`);
    packages.set(i.plugin.manifest.name, i.package);
  }
  return { plugins: reg.all(), packages };
}

/** `--fake-nodes N`: the fake runtime plugin's `nodes` setting. */
function fakeNodes(settings: Record<string, PluginSettings>, n: number | undefined): Record<string, PluginSettings> {
  if (n === undefined) return settings;
  const cur = settings["runtime-fake"] ?? {};
  return { ...settings, "runtime-fake": { ...cur, config: { ...cur.config, nodes: n } } };
}

/** `--containerd-socket`, `--docker-socket`: the runtime plugins' `socket` settings. */
function runtimeSockets(settings: Record<string, PluginSettings>, o: { containerdSocket?: string; dockerSocket?: string }): Record<string, PluginSettings> {
  const out = { ...settings };
  for (const [plugin, socket] of [
    ["runtime-containerd", o.containerdSocket],
    ["runtime-docker", o.dockerSocket],
  ] as const) {
    if (socket) out[plugin] = { ...out[plugin], config: { ...out[plugin]?.config, socket } };
  }
  return out;
}

/**
 * Before the server starts: a runtime reached over a socket (its plugin has a
 * `socket` setting: containerd, docker) must answer and be healthy. A missing
 * socket or a sick daemon is one line and exit 1, not a plugin restarting
 * with backoff behind a running API.
 */
async function checkRuntimeDaemon(o: Common & { containerdSocket?: string; dockerSocket?: string }, name: string, dataDir: string): Promise<void> {
  const plugin = (await availablePlugins(dataDir)).plugins.find((p) => (p.manifest.provides ?? []).includes(`runtime:${name}`));
  if (!(plugin?.manifest.configSchema as { properties?: Record<string, unknown> } | undefined)?.properties?.socket) return;
  const socket = name === "containerd" ? o.containerdSocket : name === "docker" ? o.dockerSocket : undefined;
  const { runtime, config, close } = await runtimeAdapter({ ...o, runtime: name, ...(socket ? { socket } : {}) });
  try {
    const path = String(config.socket);
    const flag = name === "containerd" || name === "docker" ? ` (--${name}-socket sets its path)` : "";
    if (!existsSync(path)) throw new PluginError(`cannot reach ${name}: no socket at ${path}; is ${name} running?${flag}`);
    let health: RuntimeHealth;
    try {
      health = runtime.status ? await runtime.status() : (await runtime.version(), { ready: true });
    } catch (e) {
      throw new PluginError(`cannot reach ${name} at ${path}: ${(e as Error).message.split("\n")[0]}`);
    }
    if (!health.ready) throw new PluginError(`${name} at ${path} is not healthy: ${(health.problems ?? []).join("; ")}`);
  } finally {
    await close();
  }
}

/** Logs failures nobody awaited instead of dying: one plugin's bug must not stop the kernel. */
function keepRunningOnStrayErrors(): void {
  const log = logger("process");
  process.on("unhandledRejection", (e) => log.error({ err: e instanceof Error ? e.message : String(e) }, "unhandled rejection"));
  process.on("uncaughtException", (e) => log.error({ err: e.message }, "uncaught exception"));
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const log = logger("cli");
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    void stop().then(
      () => process.exit(0),
      (e) => {
        log.error({ err: (e as Error).message }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => handler("SIGINT"));
  process.on("SIGTERM", () => handler("SIGTERM"));
}

const program = new Command("skiff")
  .description("A Kubernetes-compatible orchestrator for edge and homelab clusters")
  .showHelpAfterError("(run with --help for usage)")
  .configureOutput({ outputError: (s, write) => write(s.split("\n")[0] + "\n") });

// ---- skiff server ------------------------------------------------------------

interface ServerFlags extends Common {
  listen?: { host: string; port: number };
  runtime?: string;
  preset?: PresetName;
  nodeName?: string;
  enable?: string[];
  disable?: string[];
  memory?: boolean;
  historyRevisions?: number;
  historyAge?: number;
  serviceCidr?: string;
  serviceNodePortRange?: [number, number];
  fakeNodes?: number;
  containerdSocket?: string;
  dockerSocket?: string;
  secure?: boolean;
  insecure?: boolean;
  tokenAuthFile?: string;
  audit?: boolean;
  auditLogPath?: string;
  auditLogMaxsize?: number;
  auditLogMaxbackup?: number;
  encryptionResources?: string[];
  maxRequestsInflight?: number;
  maxMutatingRequestsInflight?: number;
  clientQps?: number;
  clientBurst?: number;
  clientBusyInflight?: number;
  requestBodyTimeout?: number;
  idleTimeout?: number;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

function portRange(v: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(v);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!m || lo < 1 || hi > 65535 || lo > hi) throw new InvalidArgumentError(`expected LOW-HIGH ports, got ${JSON.stringify(v)}`);
  return [lo, hi];
}

function cidr(v: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) < 8 || Number(m[5]) > 30) {
    throw new InvalidArgumentError(`expected an IPv4 CIDR from /8 to /30, got ${JSON.stringify(v)}`);
  }
  return v;
}

program
  .command("server")
  .description("run the API server and its plugins (all-in-one by default)")
  .option("--data-dir <dir>", "where the database, kubeconfig.yaml and installed plugins live (default .skiff)")
  .option("--listen <host:port>", "address to serve the API on (default 127.0.0.1:6443)", hostPort)
  .option("--runtime <name>", "container runtime for the local node (default process)")
  .option("--containerd-socket <path>", "containerd's socket with --runtime containerd (default /run/containerd/containerd.sock)")
  .option("--docker-socket <path>", "dockerd's socket with --runtime docker (default /var/run/docker.sock)")
  .option("--config <file>", "config file (default <data-dir>/skiff.yaml when present)")
  .addOption(new Option("--preset <name>", "which plugins run (default all-in-one)").choices(PRESETS))
  .option("--node-name <name>", "the local node's name (default: the host name)")
  .option("--enable <plugins>", "enable plugins by name (comma-separated)", nameList)
  .option("--disable <plugins>", "disable plugins by name (comma-separated), e.g. --disable scheduler", nameList)
  .option("--memory", "keep everything in memory (nothing is written to the data dir but the kubeconfig, the TLS files and the join token)")
  .option("--history-revisions <n>", "most revisions kept for watch resumes and paged lists", positiveInt)
  .option("--history-age <seconds>", "oldest history kept, in seconds", positiveInt)
  .option("--fake-nodes <n>", "simulate N nodes with the fake runtime (implies --runtime fake), for scale tests", positiveInt)
  .option("--service-cidr <cidr>", "range Service ClusterIPs come from (default 10.96.0.0/12)", cidr)
  .option("--service-node-port-range <low-high>", "range NodePorts come from (default 30000-32767)", portRange)
  .option("--secure", "serve HTTPS with authentication and RBAC (the default; a CA and certificates under <data-dir>/tls, the admin kubeconfig, a join token in <data-dir>/token)")
  .option("--insecure", "serve plain HTTP WITHOUT authentication or authorization: anyone who can connect is cluster admin (tests and benchmarks only)")
  .option("--token-auth-file <file>", "static bearer tokens, lines of token,user,uid,\"group1,group2\" (default <data-dir>/tokens.csv when present)")
  .option("--audit-log-path <file>", "audit log of mutating requests (default <data-dir>/audit/audit.log)")
  .option("--audit-log-maxsize <MB>", "rotate the audit log at this size in megabytes (default 100)", positiveInt)
  .option("--audit-log-maxbackup <n>", "rotated audit logs kept (default 10)", nonNegativeInt)
  .option("--no-audit", "do not write an audit log")
  .option("--encryption-resources <list>", "resources encrypted at rest, e.g. secrets,configmaps (default secrets; always includes secrets)", nameList)
  .option("--max-requests-inflight <n>", "non-mutating requests in flight at most, 0 = no limit (default 400)", nonNegativeInt)
  .option("--max-mutating-requests-inflight <n>", "mutating requests in flight at most, 0 = no limit (default 200)", nonNegativeInt)
  .option("--client-qps <n>", "requests per second per client (user, else source IP), 0 = no per-client limit (default 100)", nonNegativeInt)
  .option("--client-burst <n>", "per-client burst (default 400)", positiveInt)
  .option("--client-busy-inflight <n>", "enforce the per-client limit only while at least this many requests of other clients are in flight, 0 = always (default 1)", nonNegativeInt)
  .option("--request-body-timeout <seconds>", "a request body must arrive within this time, else 408 (default 60)", positiveInt)
  .option("--idle-timeout <seconds>", "close connections silent this long, watches and streams excepted; Bun only, 0 = never, at most 255 (default 120)", nonNegativeInt)
  .action(async (o: ServerFlags) => {
    const log = logger("cli");
    const { config, dataDir } = settings(o, ".skiff");
    const listen = o.listen ?? (config.listen ? hostPort(config.listen) : { host: "127.0.0.1", port: 6443 });
    const retention = {
      ...(o.historyRevisions !== undefined ? { maxRevisions: o.historyRevisions } : {}),
      ...(o.historyAge !== undefined ? { maxAgeMs: o.historyAge * 1000 } : {}),
    };
    if (o.secure && o.insecure) throw new PluginError("--secure and --insecure contradict each other (secure is the default)");
    if (o.insecure) {
      process.stderr.write(
        "\n" +
          "  !!! skiff server --insecure: plain HTTP, NO authentication, NO authorization.\n" +
          "  !!! Anyone who can reach " + `${listen.host}:${listen.port}` + " is cluster admin. For tests and benchmarks only.\n\n",
      );
    }
    const runtimeName = o.fakeNodes !== undefined ? "fake" : (o.runtime ?? config.runtime ?? "process");
    await checkRuntimeDaemon(o, runtimeName, dataDir);
    keepRunningOnStrayErrors();
    const kernel = await createKernel({
      dataDir,
      listen,
      ...(o.memory ? { memory: true } : {}),
      store: { retention },
      security: { enabled: !o.insecure, ...(o.tokenAuthFile ? { tokenAuthFile: o.tokenAuthFile } : {}) },
      services: {
        ...(o.serviceCidr ? { cidr: o.serviceCidr } : {}),
        ...(o.serviceNodePortRange ? { nodePortRange: o.serviceNodePortRange } : {}),
      },
      audit:
        o.audit === false
          ? false
          : {
              ...(o.auditLogPath ? { path: o.auditLogPath } : {}),
              ...(o.auditLogMaxsize !== undefined ? { maxSizeMB: o.auditLogMaxsize } : {}),
              ...(o.auditLogMaxbackup !== undefined ? { maxBackups: o.auditLogMaxbackup } : {}),
            },
      ...(o.encryptionResources ? { encryption: { resources: [...new Set(["secrets", ...o.encryptionResources])] } } : {}),
      requests: {
        ...(o.maxRequestsInflight !== undefined ? { maxRequestsInflight: o.maxRequestsInflight } : {}),
        ...(o.maxMutatingRequestsInflight !== undefined ? { maxMutatingRequestsInflight: o.maxMutatingRequestsInflight } : {}),
        ...(o.clientQps !== undefined ? { clientQps: o.clientQps } : {}),
        ...(o.clientBurst !== undefined ? { clientBurst: o.clientBurst } : {}),
        ...(o.clientBusyInflight !== undefined ? { clientBusyInflight: o.clientBusyInflight } : {}),
        ...(o.requestBodyTimeout !== undefined ? { bodyTimeoutMs: o.requestBodyTimeout * 1000 } : {}),
        ...(o.idleTimeout !== undefined ? { idleTimeoutSeconds: Math.min(255, o.idleTimeout) } : {}),
      },
      plugins: {
        available: (await availablePlugins(dataDir)).plugins,
        preset: o.preset ?? config.preset ?? "all-in-one",
        settings: runtimeSockets(fakeNodes(config.plugins ?? {}, o.fakeNodes), o),
        ...(o.enable ? { enable: o.enable } : {}),
        ...(o.disable ? { disable: o.disable } : {}),
        runtime: runtimeName,
        nodeName: o.nodeName ?? config.nodeName ?? defaultNodeName(),
      },
    });
    log.info({ url: kernel.url, kubeconfig: kernel.kubeconfigPath, ...(kernel.joinToken ? { joinTokenFile: kernel.joinToken.file } : {}) }, "serving");
    onSignals(() => kernel.stop());
  });

// ---- skiff agent -------------------------------------------------------------

interface AgentFlags extends Common {
  server?: string;
  token?: string;
  nodeName?: string;
  runtime?: string;
  containerdSocket?: string;
  dockerSocket?: string;
  enable?: string[];
  disable?: string[];
}

/** The names and addresses of this machine for the agent endpoint's serving certificate. */
function agentServingNames(nodeName: string, nodeIP: string | undefined): { dnsNames: string[]; ipAddresses: string[] } {
  const ips = new Set<string>(nodeIP ? [nodeIP] : []);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (!a.internal && !a.address.startsWith("fe80")) ips.add(a.address);
  return { dnsNames: [...new Set([nodeName, hostname()])], ipAddresses: [...ips] };
}

program
  .command("agent")
  .description("join this machine to a server as a node")
  .option("--server <url>", "the server's URL, e.g. https://10.0.0.2:6443")
  .option("--token <token>", "the join token the server gave you")
  .option("--node-name <name>", "this node's name (default: the host name)")
  .option("--runtime <name>", "container runtime (default process)")
  .option("--containerd-socket <path>", "containerd's socket with --runtime containerd (default /run/containerd/containerd.sock)")
  .option("--docker-socket <path>", "dockerd's socket with --runtime docker (default /var/run/docker.sock)")
  .option("--data-dir <dir>", "state directory for this agent (default .skiff-agent)")
  .option("--config <file>", "config file (default <data-dir>/skiff.yaml when present)")
  .option("--enable <plugins>", "enable plugins by name (comma-separated)", nameList)
  .option("--disable <plugins>", "disable plugins by name (comma-separated)", nameList)
  .action(async (o: AgentFlags) => {
    const log = logger("agent");
    const { config, dataDir } = settings(o, ".skiff-agent");
    const server = o.server ?? config.server;
    const token = o.token ?? config.token;
    if (!server) throw new PluginError("--server is required (the server's URL)");
    if (!/^https?:\/\/[^/]+/.test(server)) throw new PluginError(`--server: expected http(s)://HOST:PORT, got ${JSON.stringify(server)}`);
    if (!token) throw new PluginError("--token is required (the server's join token)");
    const nodeName = o.nodeName ?? config.nodeName ?? defaultNodeName();
    const runtime = o.runtime ?? config.runtime ?? "process";
    const selected = selectPlugins({
      available: (await availablePlugins(dataDir)).plugins,
      preset: "agent",
      settings: runtimeSockets(config.plugins ?? {}, o),
      ...(o.enable ? { enable: o.enable } : {}),
      ...(o.disable ? { disable: o.disable } : {}),
      runtime,
      nodeName,
    });
    if (selected.order.length === 0) throw new PluginError("no installed plugin runs in the agent role; the agent would have nothing to do");
    await checkRuntimeDaemon({ ...o, dataDir }, runtime, dataDir);
    // https: join with the K10 token (CA pinned by hash, then a node client certificate); http: the token as a bearer token.
    const agentConfig = selected.configs.get("node-agent") as { nodeIP?: string; server?: { enabled?: boolean; tls?: unknown } } | undefined;
    let joined: Awaited<ReturnType<typeof joinCluster>> | undefined;
    if (server.startsWith("https:")) {
      try {
        joined = await joinCluster({ server, token, nodeName, stateDir: dataDir, servingNames: agentServingNames(nodeName, agentConfig?.nodeIP) });
      } catch (e) {
        throw new PluginError(e instanceof JoinError ? e.message : `joining ${server} failed: ${(e as Error).message}`);
      }
      log.info({ server, nodeName, newCertificate: joined.issued }, "joined with a node client certificate");
      // The agent endpoint serves HTTPS with the serving certificate from the join; the API server presents its client certificate.
      if (agentConfig?.server && agentConfig.server.enabled !== false && !agentConfig.server.tls) agentConfig.server.tls = { ...joined.serving, ca: joined.ca };
    }
    const client = joined
      ? httpClient({ server, fetch: tlsFetch(joined), fieldManager: "skiff-agent", userAgent: `skiff-agent/${nodeName}` })
      : httpClient({ server, token, fieldManager: "skiff-agent", userAgent: `skiff-agent/${nodeName}` });
    try {
      await client.list({ group: "", version: "v1", resource: "namespaces", namespaced: false }, { limit: 1 });
    } catch (e) {
      // Forbidden still means reachable and authenticated (a node may not list namespaces under RBAC).
      if (!isApiError(e, "Forbidden")) throw new PluginError(`cannot reach the server at ${server}: ${(e as Error).message}`);
    }
    mkdirSync(dataDir, { recursive: true });
    keepRunningOnStrayErrors();
    const informers = new SharedInformerFactory(client);
    const events = new EventRecorder(client, { component: "skiff-agent", host: nodeName });
    const host = new PluginHost({
      role: "agent",
      client,
      informers,
      events,
      log: logger("plugins"),
      nodeName,
      dataDir,
    });
    host.container.register(Tokens.RuntimeName, { useValue: runtime });
    host.register(selected.order, selected.configs);
    informers.start();
    await host.start();
    log.info({ server, nodeName, plugins: selected.order.map((p) => p.manifest.name) }, "agent running");
    onSignals(async () => {
      await host.stop();
      await informers.stop();
      await events.flush();
    });
  });

// ---- skiff plugins -----------------------------------------------------------

const plugins = program.command("plugins").description("list, install and remove plugins");

plugins
  .command("list")
  .description("show built-in and installed plugins and whether the preset runs them")
  .option("--data-dir <dir>", "data directory (default .skiff)")
  .option("--config <file>", "config file (default <data-dir>/skiff.yaml)")
  .action(async (o: Common) => {
    const { config, dataDir } = settings(o, ".skiff");
    const { plugins: available, packages } = await availablePlugins(dataDir);
    const preset = config.preset ?? "all-in-one";
    const on = new Set(enabledPlugins(preset, available, config, { runtime: config.runtime ?? "process" }));
    const rows = available.map((p) => [
      p.manifest.name,
      p.manifest.version,
      packages.get(p.manifest.name) ?? "built-in",
      on.has(p.manifest.name) ? "yes" : "no",
      p.manifest.description ?? "",
    ]);
    const head = ["NAME", "VERSION", "SOURCE", `ENABLED (${preset})`, "DESCRIPTION"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join("   ").trimEnd() + "\n");
  });

plugins
  .command("add <spec>")
  .description("install a plugin: an npm package name, a tarball or a directory; it loads at the next start")
  .option("--data-dir <dir>", "data directory (default .skiff)")
  .option("--config <file>", "config file to record it in (default <data-dir>/skiff.yaml)")
  .action(async (spec: string, o: Common) => {
    const { config, dataDir, file } = settings(o, ".skiff");
    const before = await availablePlugins(dataDir);
    process.stderr.write(`installing ${spec} …\n`);
    const installed = await installPlugin(dataDir, spec);
    const name = installed.plugin.manifest.name;
    const owner = before.packages.get(name);
    const clash = before.plugins.some((p) => p.manifest.name === name) && owner !== installed.package;
    if (clash) {
      uninstallPlugin(dataDir, installed.package);
      throw new PluginError(`plugin "${name}" from ${spec} clashes with ${owner ? `package ${owner}` : "a built-in plugin"} of the same name`);
    }
    config.plugins = { ...config.plugins, [name]: { ...config.plugins?.[name], enabled: true } };
    mkdirSync(dataDir, { recursive: true });
    saveConfig(file, config);
    process.stdout.write(`installed ${name} ${installed.plugin.manifest.version} (package ${installed.package}); it loads at the next start\n`);
  });

plugins
  .command("remove <name>")
  .description("uninstall a plugin installed with `plugins add`")
  .option("--data-dir <dir>", "data directory (default .skiff)")
  .option("--config <file>", "config file (default <data-dir>/skiff.yaml)")
  .action(async (name: string, o: Common) => {
    const { config, dataDir, file } = settings(o, ".skiff");
    const { packages } = await availablePlugins(dataDir);
    const pkg = packages.get(name);
    if (!pkg) {
      if (builtinPlugins().some((p) => p.manifest.name === name)) {
        throw new PluginError(`"${name}" is built in; disable it instead (plugins: { ${name}: { enabled: false } } in skiff.yaml, or --disable ${name})`);
      }
      throw new PluginError(`no installed plugin named "${name}" (see: skiff plugins list)`);
    }
    uninstallPlugin(dataDir, pkg);
    if (config.plugins?.[name]) {
      delete config.plugins[name];
      saveConfig(file, config);
    }
    process.stdout.write(`removed ${name} (package ${pkg}); it stops loading at the next start\n`);
  });

// ---- skiff secrets -----------------------------------------------------------

interface SecretsFlags extends Common {
  resources?: string[];
}

/** The data dir's store, opened offline with every Secret (and `resources`) sealed; refused while a server runs. */
async function offlineStore(o: SecretsFlags) {
  const { dataDir } = settings(o, ".skiff");
  const pid = serverHolding(dataDir);
  if (pid !== undefined) {
    throw new PluginError(`a server (pid ${pid}) is using ${dataDir}; stop it first (if none runs, remove ${join(dataDir, "encryption", "server.pid")})`);
  }
  const db = join(dataDir, "skiff.db");
  if (!existsSync(db)) throw new PluginError(`no database at ${db}`);
  const keys = KeySet.load(dataDir);
  const release = lockDataDir(dataDir);
  const raw = await SqliteStore.open({ path: db });
  const resources = [...new Set(["secrets", ...(o.resources ?? [])])];
  const store = new EncryptingStore(raw, { keys, resources });
  const registry = new TypeRegistry();
  for (const t of builtinTypes()) registry.register(t);
  const types = registry.all().filter((t) => store.encrypts(t));
  return {
    dataDir,
    keys,
    raw,
    store,
    types,
    async close() {
      await raw.close();
      release();
    },
  };
}

const secrets = program.command("secrets").description("the keys that encrypt Secrets at rest (<data-dir>/encryption/keys.json)");

secrets
  .command("status")
  .description("list the keys and how many stored versions each one seals (server stopped)")
  .option("--data-dir <dir>", "data directory (default .skiff)")
  .option("--resources <list>", "also count these encrypted resources (as given to --encryption-resources)", nameList)
  .action(async (o: SecretsFlags) => {
    const s = await offlineStore(o);
    try {
      const used = await keysInUse(s.raw, s.types);
      for (const name of s.keys.names) process.stdout.write(`${name}${name === s.keys.primary ? " (primary)" : ""}\t${used.get(name) ?? 0}\n`);
      for (const [name, n] of used) if (!s.keys.names.includes(name)) process.stdout.write(`${name}\t${n}\n`);
    } finally {
      await s.close();
    }
  });

secrets
  .command("rotate-key")
  .description("add a new primary key: new writes use it, reads accept every key; the server picks it up (and re-encrypts) at its next start")
  .option("--data-dir <dir>", "data directory (default .skiff)")
  .action((o: SecretsFlags) => {
    const { dataDir } = settings(o, ".skiff");
    const keys = KeySet.load(dataDir);
    const name = keys.rotate();
    keys.save(dataDir);
    const running = serverHolding(dataDir) !== undefined;
    process.stdout.write(`new primary key ${name}${running ? "; restart the server to use it" : ""}\n`);
  });

secrets
  .command("rewrite")
  .description("re-encrypt every stored Secret with the primary key and compact older versions away (server stopped)")
  .option("--data-dir <dir>", "data directory (default .skiff)")
  .option("--resources <list>", "also these encrypted resources (as given to --encryption-resources)", nameList)
  .action(async (o: SecretsFlags) => {
    const s = await offlineStore(o);
    try {
      const r = await rewriteAll(s.store, s.raw, s.types);
      process.stdout.write(`rewrote ${r.rewritten} of ${r.total} objects with key ${s.keys.primary}\n`);
    } finally {
      await s.close();
    }
  });

secrets
  .command("prune-keys")
  .description("drop every key but the primary, once no stored version needs them (server stopped)")
  .option("--data-dir <dir>", "data directory (default .skiff)")
  .option("--resources <list>", "also check these encrypted resources (as given to --encryption-resources)", nameList)
  .action(async (o: SecretsFlags) => {
    const s = await offlineStore(o);
    try {
      const used = await keysInUse(s.raw, s.types);
      const blocking = [...used].filter(([name]) => name !== s.keys.primary);
      if (blocking.length > 0) {
        const what = blocking.map(([name, n]) => `${name} seals ${n} stored versions`).join(", ");
        throw new PluginError(`${what}; run \`skiff secrets rewrite\` first`);
      }
      const dropped = s.keys.pruneToPrimary();
      s.keys.save(s.dataDir);
      process.stdout.write(dropped.length > 0 ? `dropped ${dropped.join(", ")}; ${s.keys.primary} remains\n` : `only ${s.keys.primary} is left\n`);
    } finally {
      await s.close();
    }
  });

// ---- skiff token -------------------------------------------------------------

interface TokenFlags extends Common {
  kubeconfig?: string;
  ttl?: number;
  description?: string;
}

/** `24h`, `90m`, `3600s`, `0` (never expires) → milliseconds. */
function duration(v: string): number {
  const m = /^(\d+)(h|m|s)?$/.exec(v);
  if (!m) throw new InvalidArgumentError(`expected a duration like 24h, 30m or 0, got ${JSON.stringify(v)}`);
  return Number(m[1]) * { h: 3_600_000, m: 60_000, s: 1000 }[(m[2] ?? "s") as "h" | "m" | "s"];
}

/** A client for the server from the admin kubeconfig (`<data-dir>/kubeconfig.yaml` unless --kubeconfig), and the CA's hash. */
async function adminClient(o: TokenFlags) {
  const { dataDir } = settings(o, ".skiff");
  const file = o.kubeconfig ?? join(dataDir, "kubeconfig.yaml");
  if (!existsSync(file)) throw new PluginError(`no kubeconfig at ${file} (start the server first, or pass --kubeconfig)`);
  const kc = yamlLib().parse(readFileSync(file, "utf8")) as {
    clusters?: { cluster?: { server?: string; "certificate-authority-data"?: string } }[];
    users?: { user?: { "client-certificate-data"?: string; "client-key-data"?: string } }[];
  };
  const cluster = kc.clusters?.[0]?.cluster;
  const user = kc.users?.[0]?.user;
  const b64 = (s?: string) => (s ? Buffer.from(s, "base64").toString("utf8") : "");
  if (!cluster?.server?.startsWith("https:") || !cluster["certificate-authority-data"] || !user?.["client-certificate-data"]) {
    throw new PluginError(`${file} is not a secure server's admin kubeconfig (https, CA and client certificate; was the server started with --insecure?)`);
  }
  const tls = { ca: b64(cluster["certificate-authority-data"]), cert: b64(user["client-certificate-data"]), key: b64(user["client-key-data"]) };
  return { client: httpClient({ server: cluster.server, fetch: tlsFetch(tls), userAgent: "skiff-token" }), caHash: await certSha256(tls.ca), server: cluster.server };
}

const SECRETS = { group: "", version: "v1", resource: "secrets", namespaced: true } as const;
const token = program.command("token").description("join tokens for agents (bootstrap-token Secrets in kube-system; deleting one revokes it at once)");

token
  .command("create")
  .description("create a join token and print it")
  .option("--ttl <duration>", "how long it is valid: 24h, 30m, 0 for never (default 24h)", duration)
  .option("--description <text>", "what it is for")
  .option("--data-dir <dir>", "the server's data directory, for its kubeconfig.yaml (default .skiff)")
  .option("--kubeconfig <file>", "admin kubeconfig (default <data-dir>/kubeconfig.yaml)")
  .action(async (o: TokenFlags) => {
    const { client, caHash } = await adminClient(o);
    const ttl = o.ttl ?? 24 * 3_600_000;
    const t = generateBootstrapToken();
    await client.create(SECRETS, bootstrapTokenSecret({ ...t, ...(ttl > 0 ? { expiration: new Date(Date.now() + ttl) } : {}), ...(o.description ? { description: o.description } : {}) }));
    process.stdout.write(`${formatJoinToken(caHash, t)}\n`);
  });

token
  .command("list")
  .description("list join tokens")
  .option("--data-dir <dir>", "the server's data directory (default .skiff)")
  .option("--kubeconfig <file>", "admin kubeconfig (default <data-dir>/kubeconfig.yaml)")
  .action(async (o: TokenFlags) => {
    const { client } = await adminClient(o);
    const list = await client.list(SECRETS, { namespace: TOKEN_NAMESPACE });
    const rows = list.items
      .filter((s) => (s as { type?: string }).type === BOOTSTRAP_SECRET_TYPE)
      .map((s) => {
        const d = secretData(s);
        return [d["token-id"] ?? "", d.expiration ?? "<forever>", d.description ?? ""];
      });
    const head = ["ID", "EXPIRES", "DESCRIPTION"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join("   ").trimEnd() + "\n");
  });

token
  .command("delete <id>")
  .description("revoke a join token (by its id, the part before the dot)")
  .option("--data-dir <dir>", "the server's data directory (default .skiff)")
  .option("--kubeconfig <file>", "admin kubeconfig (default <data-dir>/kubeconfig.yaml)")
  .action(async (id: string, o: TokenFlags) => {
    const m = /^(?:K10[0-9a-f]{64}::)?([a-z0-9]{6})(?:\.[a-z0-9]{16})?$/.exec(id);
    if (!m) throw new PluginError(`expected a token id (6 characters [a-z0-9]), got ${JSON.stringify(id)}`);
    const { client } = await adminClient(o);
    try {
      await client.delete(SECRETS, `bootstrap-token-${m[1]}`, { namespace: TOKEN_NAMESPACE });
    } catch (e) {
      if (isApiError(e, "NotFound")) throw new PluginError(`no join token with id ${m[1]}`);
      throw e;
    }
    process.stdout.write(`deleted join token ${m[1]}\n`);
  });

// ---- skiff images ------------------------------------------------------------

interface ImagesFlags extends Common {
  runtime?: string;
  socket?: string;
  set?: string[];
}

function keyValue(v: string, prev: string[] = []): string[] {
  if (!/^[A-Za-z][\w.-]*=/.test(v)) throw new InvalidArgumentError(`expected KEY=VALUE, got ${JSON.stringify(v)}`);
  return [...prev, v];
}

/** A progress display for `done/total` bytes: a redrawn bar on a terminal, a line per 10 % otherwise. */
function progressReporter(out: NodeJS.WriteStream, label: string): { update(done: number, total: number): void; end(): void } {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  let lastStep = -1;
  let drawn = false;
  return {
    update(done, total) {
      const frac = total > 0 ? Math.min(1, done / total) : 1;
      if (out.isTTY) {
        const width = 30;
        const filled = Math.round(frac * width);
        out.write(`\r${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}% ${mb(done)}/${mb(total)} MB`);
        drawn = true;
      } else {
        const step = Math.floor(frac * 10);
        if (step === lastStep) return;
        lastStep = step;
        out.write(`${label}: ${step * 10}% (${mb(done)}/${mb(total)} MB)\n`);
      }
    },
    end() {
      if (drawn) out.write("\n");
    },
  };
}

/**
 * The runtime adapter the server would run for `name`, built from its
 * plugin (found by the `runtime:<name>` it provides) with the config from
 * skiff.yaml, `--socket` and `--set`. Returns the adapter and a cleanup.
 */
async function runtimeAdapter(o: ImagesFlags): Promise<{ runtime: RuntimeAdapter; name: string; config: Record<string, unknown>; close(): Promise<void> }> {
  const { config, dataDir } = settings(o, ".skiff");
  const name = o.runtime ?? config.runtime ?? "process";
  const { plugins: available } = await availablePlugins(dataDir);
  const plugin = available.find((p) => (p.manifest.provides ?? []).includes(`runtime:${name}`));
  if (!plugin) throw new PluginError(`unknown runtime "${name}" (available: ${availableRuntimes(available).join(", ")})`);
  const given: Record<string, unknown> = { ...config.plugins?.[plugin.manifest.name]?.config };
  if (o.socket) given.socket = o.socket;
  for (const kv of o.set ?? []) {
    const i = kv.indexOf("=");
    const raw = kv.slice(i + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      /* a plain string */
    }
    given[kv.slice(0, i)] = value;
  }
  const pluginConf = pluginConfig(plugin, given);
  const container = rootContainer.createChildContainer();
  if (existsSync(dataDir)) container.register(Tokens.DataDir, { useValue: dataDir });
  await plugin.register?.(container, pluginConf as never, Tokens);
  const runtime = container.isRegistered(Tokens.RuntimeAdapter, true) ? container.resolveAll(Tokens.RuntimeAdapter).find((a) => a.name === name) : undefined;
  if (!runtime) throw new PluginError(`plugin "${plugin.manifest.name}" registered no runtime adapter named "${name}"`);
  return {
    runtime,
    name,
    config: pluginConf as Record<string, unknown>,
    async close() {
      await runtime.close();
      await plugin.stop?.();
    },
  };
}

const images = program.command("images").description("manage the images of this node's container runtime");

images
  .command("import <file>")
  .description("load an image archive (OCI layout or docker-save tar) into the runtime's image store")
  .option("--runtime <name>", "runtime whose store gets the images: containerd, docker … (default: the config's, else process)")
  .option("--socket <path>", "the runtime's socket (its plugin's `socket` setting)")
  .option("--set <key=value>", "another setting of the runtime's plugin (repeatable), e.g. --set ctr=/usr/bin/ctr", keyValue)
  .option("--data-dir <dir>", "data directory (default .skiff)")
  .option("--config <file>", "config file (default <data-dir>/skiff.yaml)")
  .action(async (file: string, o: ImagesFlags) => {
    if (!existsSync(file)) throw new PluginError(`${file}: no such file`);
    if (!statSync(file).isFile()) throw new PluginError(`${file}: not a file`);
    const { runtime, name, close } = await runtimeAdapter(o);
    try {
      if (!runtime.capabilities.imageStore || !runtime.importImage) {
        throw new PluginError(`the ${name} runtime keeps no image store to import into; choose one that does with --runtime (e.g. containerd, docker)`);
      }
      try {
        await runtime.version();
      } catch (e) {
        throw new PluginError(`cannot reach the ${name} runtime: ${(e as Error).message.split("\n")[0]}`);
      }
      const bar = progressReporter(process.stderr, `importing ${basename(file)}`);
      let names: string[];
      try {
        names = await runtime.importImage(file, (p) => bar.update(p.done, p.total));
      } finally {
        bar.end();
      }
      for (const n of names) process.stdout.write(`${n}\n`);
    } finally {
      await close();
    }
  });

// No top-level await: the start-up bundle (scripts/build.ts) is CommonJS, which JSC can precompile to bytecode.
program.parseAsync(process.argv).catch((e: unknown) => {
  const msg = e instanceof PluginError || isApiError(e) || e instanceof InvalidArgumentError ? e.message : e instanceof Error ? e.message : String(e);
  process.stderr.write(`skiff: ${msg.split("\n")[0]}\n`);
  process.exit(1);
});
