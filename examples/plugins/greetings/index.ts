/**
 * @module An example third-party Skiff plugin, packaged on its own.
 *
 * It adds a kind, `Greeting` (greetings.example.skiff.dev/v1alpha1), through
 * the ApiExtension extension point, and a controller that keeps, for every
 * Greeting, a ConfigMap `greeting-<name>` holding the rendered message (owned
 * by the Greeting, so deleting it removes the ConfigMap) and the message in
 * `status`.
 *
 * Only types are imported from skiff: everything used at run time (client,
 * informers, tokens, logger) is handed over by the kernel.
 */
import type { KubeObject, Plugin, PluginContext, Reconciler, ResourceRef, ResourceTypeInit } from "../../../index.ts";

export interface GreetingsConfig {
  /** The greeting word per language. */
  words: Record<string, string>;
  /** Reconciler workers. */
  workers: number;
}

const GROUP = "greetings.example.skiff.dev";
const greetings: ResourceRef = { group: GROUP, version: "v1alpha1", resource: "greetings" };
const configMaps: ResourceRef = { group: "", version: "v1", resource: "configmaps" };

interface Greeting extends KubeObject {
  spec?: { name?: string; language?: string };
  status?: { message?: string; configMap?: string; observedGeneration?: number };
}

const greetingType: ResourceTypeInit = {
  group: GROUP,
  version: "v1alpha1",
  kind: "Greeting",
  plural: "greetings",
  singular: "greeting",
  shortNames: ["greet"],
  namespaced: true,
  categories: ["all"],
  subresources: { status: true },
  // apiVersion, kind and metadata (ObjectMeta) are added by the kernel.
  schema: {
    type: "object",
    description: "A greeting rendered into a ConfigMap by the greetings plugin.",
    properties: {
      spec: {
        type: "object",
        required: ["name"],
        properties: {
          name: { type: "string", description: "Who to greet." },
          language: { type: "string", description: "Language of the greeting: en (default), fr, de, es." },
        },
      },
      status: {
        type: "object",
        properties: {
          message: { type: "string" },
          configMap: { type: "string" },
          observedGeneration: { type: "integer", format: "int64" },
        },
      },
    },
  },
  strategy: {
    validate(obj) {
      const spec = (obj as Greeting).spec;
      if (!spec?.name) return [{ reason: "FieldValueRequired", field: "spec.name", message: "Required value" }];
      return [];
    },
  },
  columns: [
    { name: "Name", type: "string", format: "name", cell: (o) => o.metadata.name },
    { name: "Message", type: "string", cell: (o) => (o as Greeting).status?.message },
    {
      name: "Age",
      type: "date",
      cell: (o, now) => {
        const t = Date.parse(o.metadata.creationTimestamp ?? "");
        return Number.isNaN(t) ? null : `${Math.max(0, Math.floor((now - t) / 1000))}s`;
      },
    },
  ],
};

function render(g: Greeting, words: Record<string, string>): string {
  const word = words[g.spec?.language ?? "en"] ?? words.en ?? "Hello";
  return `${word}, ${g.spec?.name ?? "world"}!`;
}

class GreetingReconciler implements Reconciler {
  readonly name = "greetings";
  constructor(
    private readonly ctx: PluginContext<GreetingsConfig>,
    private readonly cache: { get(name: string, namespace?: string): Greeting | undefined },
  ) {}

  async reconcile(key: string): Promise<void> {
    const [namespace, name] = key.split("/") as [string, string];
    const g = this.cache.get(name, namespace);
    if (!g || g.metadata.deletionTimestamp) return; // the garbage collector removes the ConfigMap
    const message = render(g, this.ctx.config.words);
    const cmName = `greeting-${name}`;
    const desired = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: cmName,
        namespace,
        labels: { "greetings.example.skiff.dev/greeting": name },
        ownerReferences: [
          { apiVersion: `${GROUP}/v1alpha1`, kind: "Greeting", name, uid: g.metadata.uid!, controller: true, blockOwnerDeletion: true },
        ],
      },
      data: { message },
    };
    const { client } = this.ctx;
    try {
      const cm = await client.get<KubeObject & { data?: Record<string, string> }>(configMaps, cmName, { namespace });
      if (cm.data?.message !== message) await client.update(configMaps, { ...cm, data: { message } });
    } catch (e) {
      if ((e as { reason?: string }).reason !== "NotFound") throw e;
      await client.create(configMaps, desired);
      this.ctx.events.record(g, "Normal", "Rendered", `created ConfigMap ${cmName}`);
    }
    const status = { message, configMap: cmName, observedGeneration: g.metadata.generation ?? 0 };
    const s = g.status ?? {};
    if (s.message !== status.message || s.configMap !== status.configMap || s.observedGeneration !== status.observedGeneration) {
      await client.updateStatus(greetings, { ...g, status });
    }
  }
}

const plugin: Plugin<GreetingsConfig> = {
  manifest: {
    name: "greetings",
    version: "1.0.0",
    description: "Greeting kind rendered into ConfigMaps (example third-party plugin)",
    roles: ["server"],
    configSchema: {
      additionalProperties: false,
      properties: {
        words: {
          type: "object",
          additionalProperties: { type: "string", minLength: 1 },
          default: { en: "Hello", fr: "Bonjour", de: "Hallo", es: "Hola" },
        },
        workers: { type: "integer", minimum: 1, maximum: 16, default: 2 },
      },
    },
  },
  register(container, _config, tokens) {
    container.register(tokens.ApiExtension, { useValue: { types: () => [greetingType] } });
  },
  start(ctx) {
    const informer = ctx.informers.informer<Greeting>(greetings);
    const queue = ctx.controller(new GreetingReconciler(ctx, informer), { workers: ctx.config.workers });
    const enqueue = (g: Greeting) => queue.enqueue(`${g.metadata.namespace}/${g.metadata.name}`);
    informer.on({ add: enqueue, update: (_old, g) => enqueue(g) });
    ctx.log.info("greetings controller running");
  },
};

export default plugin;
