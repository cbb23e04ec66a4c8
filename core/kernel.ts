/**
 * @module The kernel: the type registry with the built-in kinds, the store,
 * the REST storage and the API server, started together and stopped
 * together. The `skiff server` command and embedding programs both use
 * `createKernel`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TypeRegistry } from "./api/registry.ts";
import { logger } from "./log.ts";
import { createApiServer, type ApiServer } from "./server/app.ts";
import { ConvertingStore } from "./server/converting-store.ts";
import { CrdController, crdResourceType } from "./server/crds.ts";
import { GarbageCollector } from "./server/garbage-collector.ts";
import type { ServerDeps } from "./server/handlers/context.ts";
import { NamespaceLifecycle } from "./server/namespace-lifecycle.ts";
import { RestStorage } from "./server/rest-storage.ts";
import { type Listening, runtimeName, serve } from "./server/serve.ts";
import { defaultServices } from "./server/services.ts";
import { SqliteStore, type SqliteStoreOptions } from "./store/sqlite-store.ts";
import { builtinTypes, conversions, storageKeyOverrides } from "./types/index.ts";

export interface KernelOptions {
  /** Directory for the database and the kubeconfig. Omit with `memory: true`. */
  dataDir?: string;
  /** Keep everything in memory (tests, ephemeral embedding). */
  memory?: boolean;
  /** Where to serve the API; omit to not listen (in-process use only). */
  listen?: { host: string; port: number };
  store?: Omit<SqliteStoreOptions, "path">;
}

export interface Kernel {
  registry: TypeRegistry;
  store: SqliteStore;
  storage: RestStorage;
  api: ApiServer;
  /** Set when listening. */
  listening?: Listening;
  /** `http://host:port` when listening. */
  url?: string;
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

  let path = ":memory:";
  if (!opts.memory) {
    if (!opts.dataDir) throw new Error("createKernel: dataDir is required unless memory is true");
    mkdirSync(opts.dataDir, { recursive: true });
    path = join(opts.dataDir, "skiff.db");
  }
  const store = await SqliteStore.open({ path, ...opts.store });
  // What API handlers see: every multi-version kind in the version asked for.
  const versioned = new ConvertingStore(store, registry, conversions);
  const services = defaultServices();
  const lifecycle = new NamespaceLifecycle(store, registry, nsType);
  const storage = new RestStorage(versioned, services.schema, nsType, lifecycle);
  const deps: ServerDeps = { registry, store: versioned, storage, patch: services.patch, protobuf: services.protobuf };
  await lifecycle.bootstrap();
  lifecycle.start();
  const crds = new CrdController(store, registry, crdType);
  crds.start();
  const gc = new GarbageCollector(store, registry, logger("garbage-collector"));
  gc.start();
  const api = createApiServer(deps, { readyChecks: { store: () => true } });

  const kernel: Kernel = {
    registry,
    store,
    storage,
    api,
    async stop() {
      await kernel.listening?.stop();
      await lifecycle.stop();
      await crds.stop();
      await gc.stop();
      await store.close();
      log.info("stopped");
    },
  };
  if (opts.listen) {
    kernel.listening = await serve({ hostname: opts.listen.host, port: opts.listen.port, fetch: api.app.fetch });
    const host = kernel.listening.hostname.includes(":") ? `[${kernel.listening.hostname}]` : kernel.listening.hostname;
    kernel.url = `http://${host}:${kernel.listening.port}`;
    if (opts.dataDir) {
      kernel.kubeconfigPath = join(opts.dataDir, "kubeconfig.yaml");
      writeFileSync(kernel.kubeconfigPath, kubeconfig(kernel.url), { mode: 0o600 });
    }
  }
  log.info(
    { runtime: runtimeName(), driver: store.driver, url: kernel.url, ms: Math.round(performance.now() - started) },
    "kernel ready",
  );
  return kernel;
}

/** An admin kubeconfig for this cluster. */
export function kubeconfig(server: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: skiff",
    "  cluster:",
    `    server: ${server}`,
    // Plain HTTP until TLS lands; client-node 2.x refuses http:// without this flag.
    ...(server.startsWith("http:") ? ["    insecure-skip-tls-verify: true"] : []),
    "contexts:",
    "- name: skiff",
    "  context:",
    "    cluster: skiff",
    "    user: admin",
    "current-context: skiff",
    "users:",
    "- name: admin",
    "  user: {}",
    "",
  ].join("\n");
}
