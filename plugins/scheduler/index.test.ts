/** @module The scheduler plugin object: manifest, config schema, DI registration and resolution order. */
import { describe, expect, test } from "bun:test";
import { pluginConfig } from "../../core/plugin/config.ts";
import type { BindPlugin, ScorePlugin } from "../../core/plugin/scheduler-framework.ts";
import { rootContainer as container } from "../../core/plugin/di.ts";
import { Tokens } from "../../core/plugin/tokens.ts";
import { createSchedulerPlugin, HandleProxy, NAME, resolvePlugins } from "./index.ts";

describe("the scheduler plugin", () => {
  test("manifest", () => {
    const p = createSchedulerPlugin();
    expect(NAME).toBe("scheduler");
    expect(p.manifest).toMatchObject({ name: "scheduler", provides: ["scheduler"], roles: ["server"] });
  });

  test("config: defaults are filled in, bad values are refused with the field named", () => {
    const p = createSchedulerPlugin() as never;
    expect(pluginConfig(p, {})).toMatchObject({ schedulerName: "default-scheduler", percentageOfNodesToScore: 0, podInitialBackoffSeconds: 1, recordScheduledEvents: true });
    expect(() => pluginConfig(p, { percentageOfNodesToScore: 150 })).toThrow(/config\.percentageOfNodesToScore: must be <= 100/);
    expect(() => pluginConfig(p, { scoringStrategy: "Random" })).toThrow(/config\.scoringStrategy: must be one of "LeastAllocated", "MostAllocated"/);
    expect(() => pluginConfig(p, { bogus: 1 })).toThrow(/config\.bogus: unknown field/);
  });

  test("register puts the default plugins under one token per extension point; installed ones follow, the default binder binds last", () => {
    const c = container.createChildContainer();
    createSchedulerPlugin().register!(c, {}, Tokens);
    const mine: ScorePlugin = { name: "Mine", score: () => 0 };
    const binder: BindPlugin = { name: "MyBinder", bind: async () => ({ code: "Skip" }) };
    c.register(Tokens.SchedulerScore, { useValue: mine });
    c.register(Tokens.SchedulerBind, { useValue: binder });
    const set = resolvePlugins(c);
    expect(set.filter.map((p) => p.name)).toEqual([
      "NodeUnschedulable",
      "NodeName",
      "TaintToleration",
      "NodeAffinity",
      "NodePorts",
      "NodeResourcesFit",
      "PodTopologySpread",
      "InterPodAffinity",
    ]);
    expect(set.score.map((p) => p.name)).toEqual([
      "TaintToleration",
      "NodeAffinity",
      "NodeResourcesFit",
      "PodTopologySpread",
      "InterPodAffinity",
      "NodeResourcesBalancedAllocation",
      "Mine",
    ]);
    expect(set.postFilter.map((p) => p.name)).toEqual(["DefaultPreemption"]);
    expect(set.bind.map((p) => p.name)).toEqual(["MyBinder", "DefaultBinder"]);
    expect(c.resolve(Tokens.SchedulerHandle)).toBeInstanceOf(HandleProxy);
    expect(() => (c.resolve(Tokens.SchedulerHandle) as HandleProxy).snapshot()).toThrow("the scheduler has not started");
  });

});
