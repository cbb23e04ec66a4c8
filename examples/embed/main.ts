/**
 * Embedding Skiff: an edge program that runs its own orchestration kernel
 * in-process — no server process, no socket — with the built-in plugins of
 * the `server` preset plus one plugin of its own, talks to it through the
 * in-process client, and stops it cleanly.
 *
 *   bun examples/embed/main.ts             (Node: node --import tsx …; Deno: deno run -A …)
 *   bun examples/embed/main.ts ./state     (keep the state in a file store instead of memory)
 */
import { builtinPlugins, createKernel, definePlugin, type KubeObject, type ResourceRef } from "skiff";

const configMaps: ResourceRef = { group: "", version: "v1", resource: "configmaps" };

/** A plugin of the embedding program's own: stamps every ConfigMap with the size of its data. */
const sizer = definePlugin({
  manifest: { name: "configmap-sizer", version: "1.0.0", roles: ["server"] },
  start(ctx) {
    const informer = ctx.informers.informer<KubeObject & { data?: Record<string, string> }>(configMaps);
    const queue = ctx.controller({
      name: "configmap-sizer",
      async reconcile(key) {
        const [namespace, name] = key.split("/") as [string, string];
        const cm = informer.get(name, namespace);
        if (!cm) return;
        const size = String(Object.values(cm.data ?? {}).reduce((n, v) => n + v.length, 0));
        if (cm.metadata.annotations?.["example.skiff.dev/size"] === size) return;
        await ctx.client.patch(configMaps, name, "merge", { metadata: { annotations: { "example.skiff.dev/size": size } } }, { namespace });
      },
    });
    informer.on({ add: (o) => queue.enqueue(`${o.metadata.namespace}/${o.metadata.name}`), update: (_, o) => queue.enqueue(`${o.metadata.namespace}/${o.metadata.name}`) });
  },
});

const dataDir = process.argv[2];
const kernel = await createKernel({
  ...(dataDir ? { dataDir } : { memory: true }),
  plugins: { preset: "server", available: [...builtinPlugins(), sizer] },
});
try {
  const watch = kernel.client.watch(configMaps, { namespace: "default", fieldSelector: "metadata.name=settings" });
  await kernel.client.create(configMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "default" }, data: { mode: "edge", region: "shed" } });
  // Wait until the plugin has stamped it, seen through the watch.
  for await (const ev of watch) {
    const size = ev.object.metadata.annotations?.["example.skiff.dev/size"];
    if (size) {
      console.log(`${ev.type} configmap/${ev.object.metadata.name} size=${size}`);
      break;
    }
  }
  watch.close();
  const list = await kernel.client.list(configMaps, { namespace: "default" });
  console.log(`configmaps in default: ${list.items.map((c) => c.metadata.name).join(", ")}`);
  const mine = kernel.plugins.status().find((s) => s.name === "configmap-sizer");
  console.log(`plugin configmap-sizer: ${mine?.state}`);
} finally {
  await kernel.stop();
}
console.log("stopped cleanly");
