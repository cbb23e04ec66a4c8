/**
 * @module The `root-ca-cert-publisher` plugin (upstream
 * `pkg/controller/certificates/rootcacertpublisher`): a ConfigMap
 * `kube-root-ca.crt` in every namespace whose `ca.crt` is the cluster CA
 * (what the projected ServiceAccount token volume mounts beside the token,
 * for in-cluster clients to verify the API server). Changed or deleted
 * copies are put back.
 *
 * The CA comes from `caFile` (default `<dataDir>/tls/ca.crt`, which the
 * secure server's PKI writes). A server without TLS has no CA: the
 * ConfigMap is then published with an empty `ca.crt`, so that pods, whose
 * token volume requires the ConfigMap, still start the same on such a
 * server (they could not verify anything over plain HTTP anyway).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Client, Informer, Reconciler, ReconcileResult, ResourceRef } from "../../../core/client/types.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { NAMESPACES } from "../common/refs.ts";
import { type ControllerConfig, controllerPlugin } from "../common/runtime.ts";

export const NAME = "root-ca-cert-publisher";
export const CONFIG_MAP_NAME = "kube-root-ca.crt";
export const DESCRIPTION_ANNOTATION = "kubernetes.io/description";
export const DESCRIPTION =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
const CONFIG_MAPS: ResourceRef = { group: "", version: "v1", resource: "configmaps" };

export interface RootCaConfig extends ControllerConfig {
  /** The CA bundle to publish; default `<dataDir>/tls/ca.crt`. */
  caFile?: string;
}

export class RootCaReconciler implements Reconciler {
  readonly name = "root-ca-cert-publisher";
  constructor(
    private readonly client: Client,
    private readonly namespaces: Informer,
    private readonly configMaps: Informer,
    private readonly ca: () => string,
  ) {}

  async reconcile(ns: string): Promise<ReconcileResult | void> {
    const n = this.namespaces.get(ns);
    if (!n || n.metadata.deletionTimestamp) return;
    const want = { "ca.crt": this.ca() };
    const cm = this.configMaps.get(CONFIG_MAP_NAME, ns) as (KubeObject & { data?: Record<string, string> }) | undefined;
    try {
      if (!cm) {
        await this.client.create(CONFIG_MAPS, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: CONFIG_MAP_NAME, namespace: ns, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
          data: want,
        });
        return;
      }
      const sameData = JSON.stringify(cm.data ?? {}) === JSON.stringify(want) && !(cm as { binaryData?: unknown }).binaryData;
      if (sameData && cm.metadata.annotations?.[DESCRIPTION_ANNOTATION] === DESCRIPTION) return;
      const { binaryData: _b, ...rest } = cm as KubeObject & { binaryData?: unknown };
      await this.client.update(CONFIG_MAPS, {
        ...rest,
        metadata: { ...cm.metadata, annotations: { ...cm.metadata.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
        data: want,
      });
    } catch (e) {
      if (isApiError(e, "AlreadyExists") || isApiError(e, "Conflict") || isApiError(e, "NotFound")) return { requeueAfter: 100 };
      if (isApiError(e, "Forbidden") && /being terminated/.test(e.message)) return;
      throw e;
    }
  }
}

/** The CA file's PEM, "" when there is none (no TLS). */
export function readCa(file: string | undefined): string {
  if (!file) return "";
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw e;
  }
}

export function createRootCaPublisherPlugin(): Plugin<RootCaConfig> {
  let dataDir: string | undefined;
  const base = controllerPlugin<RootCaConfig>({
    name: NAME,
    description: "Publishes the cluster CA as the kube-root-ca.crt ConfigMap in every namespace.",
    provides: ["controller:root-ca-cert-publisher"],
    component: NAME,
    defaultWorkers: 2,
    configProperties: { caFile: { type: "string", minLength: 1 } },
    async run(term) {
      const file = term.config.caFile ?? (dataDir ? join(dataDir, "tls", "ca.crt") : undefined);
      const namespaces = term.informers.informer<KubeObject>(NAMESPACES);
      const configMaps = term.informers.informer<KubeObject>(CONFIG_MAPS, { fieldSelector: `metadata.name=${CONFIG_MAP_NAME}` });
      await term.waitForSync(namespaces as Informer<never>, configMaps as Informer<never>);
      if (term.signal.aborted) return;
      const queue = term.controller(new RootCaReconciler(term.client, namespaces, configMaps, () => readCa(file)));
      term.on(namespaces, { add: (ns) => queue.enqueue(ns.metadata.name!), update: (_o, ns) => queue.enqueue(ns.metadata.name!) });
      const byConfigMap = (cm: KubeObject) => queue.enqueue(cm.metadata.namespace!);
      term.on(configMaps, { update: (_o, cm) => byConfigMap(cm), delete: byConfigMap });
    },
  });
  return {
    ...base,
    register(container, config, tokens) {
      dataDir = container.isRegistered(tokens.DataDir, true) ? container.resolve(tokens.DataDir) : undefined;
      base.register?.(container, config, tokens);
    },
  };
}
