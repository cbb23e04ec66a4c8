/**
 * @module The `scheduler` plugin: kube-scheduler's framework and default
 * plugins for Skiff. `register` puts the default framework plugins and the
 * SchedulerHandle into the container; installed plugins add their own in
 * their `register` (see core/plugin/scheduler-framework.ts); `start` resolves
 * everything registered, syncs the informers and runs the scheduling loop.
 * Design notes: README.md beside this file.
 */
import type { DependencyContainer } from "tsyringe";
import { Tokens } from "../../core/plugin/tokens.ts";
import { definePlugin, type Plugin, type PluginContext } from "../../core/plugin/types.ts";
import { CONFIG_SCHEMA, resolveConfig, type SchedulerConfig } from "./config.ts";
import { Framework } from "./framework/runtime.ts";
import { wireInformers } from "./informers.ts";
import { defaultPlugins, registerSchedulerPlugin, resolvePlugins } from "./plugins/index.ts";
import { HandleProxy } from "./handle.ts";
import { Scheduler } from "./scheduler.ts";

export const NAME = "scheduler";

export { CONFIG_SCHEMA, DEFAULT_CONFIG, resolveConfig, type SchedulerConfig } from "./config.ts";
export { Framework } from "./framework/runtime.ts";
export { defaultPlugins, pluginSet, registerSchedulerPlugin, resolvePlugins } from "./plugins/index.ts";
export { Scheduler } from "./scheduler.ts";
export { HandleProxy } from "./handle.ts";

/** A fresh scheduler plugin object (the default export is one; embedders running several kernels may want their own). */
export function createSchedulerPlugin(): Plugin<Partial<SchedulerConfig>> {
  return definePlugin<Partial<SchedulerConfig>>({
    manifest: {
      name: NAME,
      version: "0.1.0",
      description: "Places pending pods on nodes: kube-scheduler's framework and default plugins, extensible by installed plugins.",
      provides: ["scheduler"],
      roles: ["server"],
      configSchema: CONFIG_SCHEMA,
      identity: { user: "system:kube-scheduler" },
    },
    register(container: DependencyContainer, config: Partial<SchedulerConfig>): void {
      const handle = new HandleProxy();
      container.register(Tokens.SchedulerHandle, { useValue: handle });
      for (const p of defaultPlugins(resolveConfig(config), handle)) registerSchedulerPlugin(container, p);
    },
    async start(ctx: PluginContext<Partial<SchedulerConfig>>): Promise<void> {
      const config = resolveConfig(ctx.config);
      const framework = new Framework(resolvePlugins(ctx.container), { weights: config.scoreWeights, disabled: config.disabledPlugins });
      const known = new Set(framework.names());
      for (const name of [...config.disabledPlugins, ...Object.keys(config.scoreWeights)]) {
        if (!known.has(name) && !config.disabledPlugins.includes(name)) ctx.log.warn({ schedulerPlugin: name }, "config names an unknown scheduler plugin");
      }
      const scheduler = new Scheduler({ client: ctx.client, events: ctx.events, log: ctx.log, config, framework });
      const handle = ctx.container.resolve(Tokens.SchedulerHandle);
      if (handle instanceof HandleProxy) handle.target = scheduler;
      await wireInformers(scheduler, ctx.informers);
      ctx.log.info(
        { schedulerName: config.schedulerName, nodes: scheduler.cache.nodeCount(), pending: scheduler.queue.size, plugins: framework.names() },
        "scheduler started",
      );
      ctx.spawn("scheduling-loop", (signal) => scheduler.run(signal));
    },
  });
}

const plugin: Plugin<Partial<SchedulerConfig>> = createSchedulerPlugin();
export default plugin;
