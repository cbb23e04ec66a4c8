/**
 * @module The kernel: the type registry with the built-in kinds, the store,
 * the REST storage, the API server and the plugin host, started together
 * and stopped together. The `skiff server` command and embedding programs
 * both use `createKernel`.
 *
 * Start-up order: plugin selection and config are validated first (a bad
 * config fails before anything is written), then the store opens, the API
 * server is built, plugins `register` (API extensions add their kinds), the
 * listener starts and the kubeconfig is written, and finally plugins `start`
 * in dependency order. `/readyz` turns OK once every plugin has started.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isApiError } from "./api/errors.ts";
import { type ResourceType, type ResourceTypeInit, TypeRegistry } from "./api/registry.ts";
import { logger } from "./log.ts";
import { AdmissionChain } from "./server/admission.ts";
import { type ClusterSecurity, createClusterSecurity, KERNEL_IDENTITY, type SecurityOptions } from "./server/auth/cluster-security.ts";
import { AuditLog, type AuditOptions } from "./server/audit.ts";
import { EncryptingStore, KeySet, lockDataDir, rewriteAll } from "./server/encryption/index.ts";
import { type HygieneOptions, RequestGuard } from "./server/hygiene.ts";
import { createApiServer, type ApiServer } from "./server/app.ts";
import { NodeAuthorizer } from "./server/auth/node-authorizer.ts";
import { AgentClientCredentials, localAgentTls } from "./server/auth/node-certificates.ts";
import { ClusterRoleAggregator, RbacAuthorizer, reconcileBootstrapPolicy, type ResolvingAuthorizer, reviewResources, skiffAuthorizer } from "./server/auth/rbac/index.ts";
import { ConvertingStore } from "./server/converting-store.ts";
import { CrdController, crdResourceType } from "./server/crds.ts";
import { GarbageCollector } from "./server/garbage-collector.ts";
import { advertiseAddress, KubernetesEndpoints } from "./server/kubernetes-endpoints.ts";
import type { ServerDeps } from "./server/handlers/context.ts";
import { NamespaceLifecycle } from "./server/namespace-lifecycle.ts";
import { RestStorage } from "./server/rest-storage.ts";
import { ServiceIpam } from "./server/service-ipam.ts";
import { type Listening, runtimeName, serve } from "./server/serve.ts";
import { defaultServices } from "./server/services.ts";
import { SqliteStore, type SqliteStoreOptions } from "./store/sqlite-store.ts";
import { builtinTypes, conversions, storageKeyOverrides } from "./types/index.ts";
import { OBJECT_META } from "./types/meta-schemas.ts";
import { EventRecorder } from "./client/events.ts";
import { inProcessClient } from "./client/fetch-client.ts";
import { SharedInformerFactory } from "./client/informer.ts";
import type { Client } from "./client/types.ts";
import { pluginConfig, type PluginSettings, type PresetName } from "./plugin/config.ts";
import { PluginHost } from "./plugin/host.ts";
import { availableRuntimes, enabledPlugins } from "./plugin/presets.ts";
import { PluginError, PluginRegistry } from "./plugin/registry.ts";
import { Tokens } from "./plugin/tokens.ts";
import { authenticationOf, loggingForbidden } from "./plugin/identity.ts";
import type { Plugin, PluginIdentity } from "./plugin/types.ts";

export interface KernelOptions {
  /** Directory for the database and the kubeconfig. Omit with `memory: true`. */
  dataDir?: string;
  /** Keep everything in memory (tests, ephemeral embedding). */
  memory?: boolean;
  /** Where to serve the API; omit to not listen (in-process use only). */
  listen?: { host: string; port: number };
  store?: Omit<SqliteStoreOptions, "path">;
  plugins?: KernelPluginOptions;
  /** Service ClusterIP range and NodePort range (defaults 10.96.0.0/12, 30000–32767). */
  services?: { cidr?: string; nodePortRange?: [number, number] };
  /**
   * Run the kernel's own garbage collector and namespace finalizer. Default:
   * each runs only when no enabled plugin provides its capability
   * (`controller:garbage-collector`, `controller:namespace`), so a bare
   * kernel still collects garbage and the built-in controller plugins
   * replace these when they run.
   */
  inlineControllers?: boolean;
  /**
   * Encryption at rest (always on): which storage keys are sealed (default
   * `["secrets"]`). Keys live in `<dataDir>/encryption/keys.json`; a memory
   * kernel uses a fresh in-memory key unless `keys` is given.
   */
  encryption?: { resources?: string[]; keys?: KeySet };
  /**
   * The audit log of mutating requests: on by default with a data dir
   * (`<dataDir>/audit/audit.log`), off in memory mode unless a path is
   * given; `false` turns it off.
   */
  audit?: false | Partial<AuditOptions>;
  /** Limits on requests from the network (in-flight, per client, body deadline) and Bun's idle timeout (default 120 s). */
  requests?: HygieneOptions & { idleTimeoutSeconds?: number };
  /**
   * TLS, authentication, RBAC and node join tokens (issue 10). On by default
   * whenever the kernel listens (`listen` set): `https://`, the cluster CA
   * and certificates under `<dataDir>/tls/`, the admin kubeconfig, a join
   * token in `<dataDir>/token`. A memory kernel without a data dir keeps its
   * PKI in memory (`kernel.clientTls` is the admin credential). A kernel that
   * does not listen has no network surface: security is off (the in-process
   * client is trusted either way) unless `enabled: true` is given.
   * `enabled: false` serves plain HTTP without authentication (tests and
   * benchmarks only; `skiff server --insecure`), with a loud warning.
   */
  security?: SecurityOptions;
}

export interface KernelPluginOptions {
  /** Every plugin that may run: the built-ins and installed ones. Default none. */
  available?: readonly Plugin<never>[];
  /** Default `all-in-one`. */
  preset?: PresetName;
  /** Per-plugin `enabled` and `config` (the `plugins:` section of skiff.yaml). */
  settings?: Record<string, PluginSettings>;
  enable?: string[];
  disable?: string[];
  /** Which runtime adapter the node agent uses (default `process`). */
  runtime?: string;
  /** The local node's name (all-in-one). */
  nodeName?: string;
}

export interface Kernel {
  registry: TypeRegistry;
  store: SqliteStore;
  storage: RestStorage;
  api: ApiServer;
  /** The in-process client plugins use. */
  client: Client;
  plugins: PluginHost;
  /** The store wrapper that encrypts Secrets at rest (its `keys`, `reseal`). */
  encryption: EncryptingStore;
  /** The audit log, when on. */
  audit?: AuditLog;
  /** In-flight and per-client limits for requests from the network. */
  guard: RequestGuard;
  /** With `security.enabled`: the PKI, the request gate, ServiceAccount tokens. */
  security?: ClusterSecurity;
  /** With `security.enabled`: the server's join token for agents, and the file it is in. */
  joinToken?: { token: string; file?: string };
  /**
   * The authorizer chain (system:masters, then Node, then RBAC) the request
   * pipeline asks per request: `authorize(user, requestAttributes(req))`.
   */
  authorizer: ResolvingAuthorizer;
  /** The RBAC authorizer on its own (its informers, `visitRulesFor`). */
  rbac: RbacAuthorizer;
  /** Set when listening. */
  listening?: Listening;
  /** `https://host:port` when listening (`http://` with security off). */
  url?: string;
  /**
   * With security on: the CA to trust and the admin (system:masters) client
   * certificate, for clients of `url` in the embedding program
   * (`httpClient({ server: kernel.url, fetch: tlsFetch(kernel.clientTls) })`).
   */
  clientTls?: { ca: string; cert: string; key: string };
  /** Path of the written kubeconfig, when there is a data dir and a listener. */
  kubeconfigPath?: string;
  stop(): Promise<void>;
}

export async function createKernel(opts: KernelOptions): Promise<Kernel> {
  const log = logger("kernel");
  const started = performance.now();
  const registry = new TypeRegistry();
  for (const t of builtinTypes()) {
    const override = storageKeyOverrides[`${t.group ? `${t.group}/` : ""}${t.version}/${t.plural}`];
    registry.register(override ? { ...t, storageKey: override } : t);
  }
  const crdType = registry.register(crdResourceType());
  const nsType = registry.get("", "v1", "namespaces")!;
  const selected = selectPlugins(opts.plugins ?? {});

  let path = ":memory:";
  if (!opts.memory) {
    if (!opts.dataDir) throw new Error("createKernel: dataDir is required unless memory is true");
    mkdirSync(opts.dataDir, { recursive: true });
    path = join(opts.dataDir, "skiff.db");
  }
  const raw = await SqliteStore.open({ path, ...opts.store });
  // Everything above this sees Secrets decrypted; the database only ever holds them sealed.
  const keys = opts.encryption?.keys ?? (opts.memory ? KeySet.generate() : KeySet.loadOrCreate(opts.dataDir!));
  const store = new EncryptingStore(raw, { keys, ...(opts.encryption?.resources ? { resources: opts.encryption.resources } : {}) });
  const unlock = opts.memory ? () => {} : lockDataDir(opts.dataDir!);
  const resealed = await rewriteAll(store, raw, registry.all());
  if (resealed.rewritten > 0) log.info({ ...resealed, key: keys.primary }, "re-encrypted objects with the primary key");
  // What API handlers see: every multi-version kind in the version asked for.
  const versioned = new ConvertingStore(store, registry, conversions);
  const services = defaultServices();
  const provided = new Set(selected.order.flatMap((p) => [p.manifest.name, ...(p.manifest.provides ?? [])]));
  const inlineGc = opts.inlineControllers ?? !provided.has("controller:garbage-collector");
  const inlineNs = opts.inlineControllers ?? !provided.has("controller:namespace");
  const lifecycle = new NamespaceLifecycle(store, registry, nsType, inlineNs);
  const storage = new RestStorage(versioned, services.schema, nsType, lifecycle);
  const deps: ServerDeps = { registry, store: versioned, storage, patch: services.patch, protobuf: services.protobuf };
  await lifecycle.bootstrap();
  const ipam = new ServiceIpam(store, registry.get("", "v1", "services")!, {
    ...(opts.services?.cidr ? { serviceCidr: opts.services.cidr } : {}),
    ...(opts.services?.nodePortRange ? { nodePortRange: opts.services.nodePortRange } : {}),
  });
  await ipam.start();
  storage.hooks.set("services", ipam);
  lifecycle.start();
  const crds = new CrdController(store, registry, crdType);
  crds.start();
  const gc = new GarbageCollector(store, registry, logger("garbage-collector"));
  if (inlineGc) gc.start();
  let pluginsStarted = false;
  const readyChecks: Record<string, () => boolean | string> = { store: () => true, plugins: () => pluginsStarted || "starting" };
  // The local node agent's endpoint token, so pods/log, exec and portforward can reach it.
  const agentToken = (selected.configs.get("node-agent") as { server?: { token?: string } } | undefined)?.server?.token;
  const guard = new RequestGuard(opts.requests, logger("requests"));
  // The reviews answer with the authorizer, built below once the informers exist.
  let authorizer: ResolvingAuthorizer | undefined;
  const createOnly = reviewResources(() => authorizer!);
  // Secure by default when there is a network surface; a kernel without a listener serves only its in-process client.
  const secure = opts.security?.enabled ?? opts.listen !== undefined;
  if (opts.listen && !secure) {
    log.warn(
      { listen: `${opts.listen.host}:${opts.listen.port}` },
      "SECURITY IS OFF: serving plain HTTP without authentication or authorization; anyone who can reach this address is cluster admin (for tests and benchmarks only)",
    );
  }
  const security = secure
    ? await createClusterSecurity({
        options: { ...opts.security, enabled: true },
        ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
        ...(opts.listen ? { listenHost: opts.listen.host } : {}),
        kubernetesServiceIP: ipam.allocator.kubernetesServiceIP,
        store: versioned,
        registry,
        log: logger("security"),
      })
    : undefined;
  // With security, the local agent's endpoint is HTTPS (a serving certificate from the cluster CA) and the API server reaches agents with its own client certificate.
  const agentClient = security ? new AgentClientCredentials(security.pki) : undefined;
  const agentServer = (selected.configs.get("node-agent") as { server?: { enabled?: boolean; tls?: unknown } } | undefined)?.server;
  if (security && agentServer && agentServer.enabled !== false && !agentServer.tls) agentServer.tls = await localAgentTls(security.pki, opts.plugins?.nodeName);
  const agents = { ...(agentToken ? { token: agentToken } : {}), ...(agentClient ? { tls: () => agentClient.get() } : {}) };
  const api = createApiServer(deps, {
    readyChecks,
    admit: (req) => guard.admit(req),
    createOnly,
    agents,
    ...(security ? { gate: security.gate, subresources: security.subresources } : {}),
  });
  const auditPath = opts.audit === false ? undefined : (opts.audit?.path ?? (opts.memory ? undefined : join(opts.dataDir!, "audit", "audit.log")));
  const audit = auditPath !== undefined && opts.audit !== false ? new AuditLog({ ...opts.audit, path: auditPath }, logger("audit")) : undefined;
  const inProcessFetch = audit ? audit.wrap(api.app.fetch, { inProcess: true }) : api.app.fetch;

  const client = inProcessClient(inProcessFetch, { fieldManager: "skiff", userAgent: "skiff-kernel", user: KERNEL_IDENTITY });
  const informers = new SharedInformerFactory(client);
  const rbac = new RbacAuthorizer(informers);
  authorizer = skiffAuthorizer({ node: new NodeAuthorizer(informers), rbac });
  // The gate authorizes every request from the network (and the kernel's own, as system:masters).
  if (security) security.gate.authorizer = opts.security?.authorizer ?? authorizer;
  const aggregator = new ClusterRoleAggregator(client, informers, logger("rbac"));
  const events = new EventRecorder(client, { component: "skiff" });
  // Each plugin acts through a client of its own identity (manifest.identity), authorized like any user; shared informers list as the kernel.
  const pluginLog = logger("plugins");
  const clientFor = (identity: PluginIdentity, plugin: string) =>
    inProcessClient(loggingForbidden(inProcessFetch, { plugin, identity, log: pluginLog }), {
      fieldManager: "skiff",
      userAgent: `skiff-kernel/${plugin}`,
      user: authenticationOf(identity),
    });
  const host = new PluginHost({
    role: "server",
    client,
    clientFor,
    authorizing: security !== undefined,
    informers,
    events,
    log: pluginLog,
    ...(opts.plugins?.nodeName !== undefined ? { nodeName: opts.plugins.nodeName } : {}),
    ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
  });
  host.container.register(Tokens.RuntimeName, { useValue: opts.plugins?.runtime ?? "process" });
  try {
    host.register(selected.order, selected.configs);
    if (host.container.isRegistered(Tokens.ApiExtension, true)) {
      for (const ext of host.container.resolveAll(Tokens.ApiExtension)) for (const t of ext.types()) registry.register(extensionType(t));
    }
    if (host.container.isRegistered(Tokens.Admission, true)) {
      storage.admission = new AdmissionChain(host.container.resolveAll(Tokens.Admission));
    }
  } catch (e) {
    await Promise.all([lifecycle.stop(), crds.stop(), gc.stop(), ipam.stop()]);
    await store.close();
    await audit?.close();
    unlock();
    throw e;
  }
  Object.assign(readyChecks, host.checks());

  let kubernetesEndpoints: KubernetesEndpoints | undefined;
  const kernel: Kernel = {
    registry,
    store: raw,
    storage,
    api,
    client,
    plugins: host,
    encryption: store,
    ...(audit ? { audit } : {}),
    guard,
    authorizer,
    rbac,
    ...(security ? { security, clientTls: { ca: security.pki.ca, cert: security.pki.admin.cert, key: security.pki.admin.key } } : {}),
    async stop() {
      security?.stop();
      await kubernetesEndpoints?.stop();
      await host.stop();
      await aggregator.stop();
      await informers.stop();
      await events.flush();
      await kernel.listening?.stop();
      await lifecycle.stop();
      await ipam.stop();
      await crds.stop();
      await gc.stop();
      await store.close();
      await audit?.close();
      unlock();
      log.info("stopped");
    },
  };
  if (opts.listen) {
    const fromNetwork = guard.wrap(api.app.fetch);
    kernel.listening = await serve({
      hostname: opts.listen.host,
      port: opts.listen.port,
      fetch: audit ? audit.wrap(fromNetwork) : fromNetwork,
      idleTimeoutSeconds: opts.requests?.idleTimeoutSeconds ?? 120,
      ...(security ? { tls: security.tls() } : {}),
    });
    const host = kernel.listening.hostname.includes(":") ? `[${kernel.listening.hostname}]` : kernel.listening.hostname;
    kernel.url = `${security ? "https" : "http"}://${host}:${kernel.listening.port}`;
    const writeKubeconfig = () => {
      if (!opts.dataDir) return;
      kernel.kubeconfigPath = join(opts.dataDir, "kubeconfig.yaml");
      const credentials = security ? { ca: security.pki.ca, cert: security.pki.admin.cert, key: security.pki.admin.key } : undefined;
      writeFileSync(kernel.kubeconfigPath, kubeconfig(kernel.url!, credentials), { mode: 0o600 });
    };
    writeKubeconfig();
    const onAdmin = () => {
      if (security) kernel.clientTls = { ca: security.pki.ca, cert: security.pki.admin.cert, key: security.pki.admin.key };
      writeKubeconfig();
    };
    await security?.startRenewal({ onServing: (tls) => kernel.listening?.setTls?.(tls), onAdmin });
  }
  if (security) kernel.joinToken = await security.ensureJoinToken(storage);
  await ensureKubernetesService(storage, registry.get("", "v1", "services")!, ipam, kernel.listening?.port ?? 6443);
  const advertised = kernel.listening ? advertiseAddress(kernel.listening.hostname) : undefined;
  if (advertised) {
    kubernetesEndpoints = new KubernetesEndpoints(client, { ip: advertised, port: kernel.listening!.port }, logger("kubernetes-endpoints"));
    await kubernetesEndpoints.start();
  }
  await reconcileBootstrapPolicy(client, logger("rbac"));
  informers.start();
  aggregator.start();
  await host.start();
  pluginsStarted = true;
  log.info(
    {
      runtime: runtimeName(),
      driver: raw.driver,
      url: kernel.url,
      plugins: selected.order.map((p) => p.manifest.name),
      ms: Math.round(performance.now() - started),
    },
    "kernel ready",
  );
  return kernel;
}

/**
 * The plugins to run, in start order, with their validated configs. Throws a
 * PluginError (duplicate, unknown, missing requirement, cycle, bad config).
 */
export function selectPlugins(o: KernelPluginOptions): { order: Plugin<never>[]; configs: Map<string, Record<string, unknown>> } {
  const reg = new PluginRegistry();
  for (const p of o.available ?? []) reg.add(p);
  const runtime = o.runtime ?? "process";
  const preset = o.preset ?? "all-in-one";
  const runtimes = availableRuntimes(reg.all());
  if (preset !== "server" && runtimes.length > 0 && !runtimes.includes(runtime)) {
    throw new PluginError(`unknown runtime "${runtime}" (available: ${runtimes.join(", ")})`);
  }
  const names = enabledPlugins(preset, reg.all(), { plugins: o.settings ?? {} }, {
    ...(o.enable ? { enable: o.enable } : {}),
    ...(o.disable ? { disable: o.disable } : {}),
    runtime,
  });
  const order = reg.resolve(names);
  const configs = new Map<string, Record<string, unknown>>();
  for (const p of order) configs.set(p.manifest.name, pluginConfig(p, o.settings?.[p.manifest.name]?.config));
  return { order, configs };
}

/**
 * A plugin kind's schema made complete the way built-in kinds are: standard
 * apiVersion/kind/metadata (ObjectMeta, so pruning keeps every metadata field
 * and `kubectl explain` shows them) and the group-version-kind that `kubectl
 * explain` looks the schema up by.
 */
function extensionType(t: ResourceTypeInit): ResourceTypeInit {
  if (!t.schema) return t;
  return {
    ...t,
    schema: {
      ...t.schema,
      properties: {
        apiVersion: { type: "string", description: "APIVersion defines the versioned schema of this representation of an object." },
        kind: { type: "string", description: "Kind is a string value representing the REST resource this object represents." },
        ...t.schema.properties,
        metadata: OBJECT_META,
      },
      "x-kubernetes-group-version-kind": t.schema["x-kubernetes-group-version-kind"] ?? [{ group: t.group, version: t.version, kind: t.kind }],
    },
  };
}

/**
 * The `kubernetes` Service in `default` (port 443, https) on the first
 * address of the service range, as kube-apiserver keeps it. Created once;
 * its target port follows the API's listen port.
 */
async function ensureKubernetesService(storage: RestStorage, type: ResourceType, ipam: ServiceIpam, port: number): Promise<void> {
  const ip = ipam.allocator.kubernetesServiceIP;
  const ctx = { fieldManager: "kube-apiserver", fieldValidation: "Ignore" as const, dryRun: false, warnings: [] };
  try {
    await storage.store.get(type, "default", "kubernetes");
    return;
  } catch (e) {
    if (!isApiError(e, "NotFound")) throw e;
  }
  try {
    await storage.create(
      type,
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } },
        spec: { type: "ClusterIP", clusterIP: ip, clusterIPs: [ip], ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: port }], sessionAffinity: "None" },
      },
      ctx,
      { skipAdmission: true },
    );
  } catch (e) {
    if (!isApiError(e, "AlreadyExists")) throw e;
  }
}

/** An admin kubeconfig for this cluster: with `tls`, the CA and the admin client certificate inline. */
export function kubeconfig(server: string, tls?: { ca: string; cert: string; key: string }): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: skiff",
    "  cluster:",
    `    server: ${server}`,
    // Plain HTTP (an --insecure server): client-node 2.x refuses http:// without this flag.
    ...(server.startsWith("http:") ? ["    insecure-skip-tls-verify: true"] : []),
    ...(tls ? [`    certificate-authority-data: ${b64(tls.ca)}`] : []),
    "contexts:",
    "- name: skiff",
    "  context:",
    "    cluster: skiff",
    "    user: admin",
    "current-context: skiff",
    "users:",
    "- name: admin",
    ...(tls ? ["  user:", `    client-certificate-data: ${b64(tls.cert)}`, `    client-key-data: ${b64(tls.key)}`] : ["  user: {}"]),
    "",
  ].join("\n");
}
