import { describe, expect, test } from "bun:test";
import { parseConfig, pluginConfig } from "./config.ts";
import { enabledPlugins } from "./presets.ts";
import { PluginRegistry } from "./registry.ts";
import type { Plugin, PluginManifest } from "./types.ts";

function plugin(name: string, m: Partial<PluginManifest> = {}): Plugin<never> {
  return { manifest: { name, version: "1.0.0", ...m } };
}

function registry(...ps: Plugin<never>[]): PluginRegistry {
  const r = new PluginRegistry();
  for (const p of ps) r.add(p);
  return r;
}

const names = (ps: Plugin<never>[]) => ps.map((p) => p.manifest.name);

describe("PluginRegistry.resolve: start order", () => {
  const cases: { name: string; plugins: Plugin<never>[]; enabled: string[]; order: string[] }[] = [
    { name: "no requirements keep the given order", plugins: [plugin("a"), plugin("b")], enabled: ["a", "b"], order: ["a", "b"] },
    {
      name: "a plugin starts after what it requires by name",
      plugins: [plugin("a", { requires: ["b"] }), plugin("b")],
      enabled: ["a", "b"],
      order: ["b", "a"],
    },
    {
      name: "a requirement may be a capability",
      plugins: [plugin("agent", { requires: ["runtime"] }), plugin("proc", { provides: ["runtime", "runtime:process"] })],
      enabled: ["agent", "proc"],
      order: ["proc", "agent"],
    },
    {
      name: "chains order transitively",
      plugins: [plugin("c", { requires: ["b"] }), plugin("b", { requires: ["a"] }), plugin("a")],
      enabled: ["c", "b", "a"],
      order: ["a", "b", "c"],
    },
    {
      name: "every provider of a capability starts first",
      plugins: [plugin("x", { requires: ["score"] }), plugin("s1", { provides: ["score"] }), plugin("s2", { provides: ["score"] })],
      enabled: ["x", "s1", "s2"],
      order: ["s1", "s2", "x"],
    },
    { name: "only enabled plugins are returned", plugins: [plugin("a"), plugin("b")], enabled: ["b"], order: ["b"] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(names(registry(...c.plugins).resolve(c.enabled))).toEqual(c.order);
    });
  }
});

describe("PluginRegistry: errors name the plugins", () => {
  test("duplicate names are refused", () => {
    const r = registry(plugin("scheduler"));
    expect(() => r.add(plugin("scheduler"), "package acme")).toThrow('duplicate plugin name "scheduler" (from package acme)');
  });
  test("a plugin without a manifest is refused", () => {
    expect(() => new PluginRegistry().add({} as Plugin<never>, "package junk")).toThrow("package junk: not a plugin");
  });
  test("a bad name is refused", () => {
    expect(() => new PluginRegistry().add(plugin("Bad Name"))).toThrow('invalid plugin name "Bad Name"');
  });
  test("a missing requirement", () => {
    const r = registry(plugin("agent", { requires: ["runtime"] }));
    expect(() => r.resolve(["agent"])).toThrow('plugin "agent" requires "runtime", which no enabled plugin provides');
  });
  test("a requirement that is installed but disabled says so", () => {
    const r = registry(plugin("a", { requires: ["b"] }), plugin("b"));
    expect(() => r.resolve(["a"])).toThrow('plugin "a" requires "b", which no enabled plugin provides (it is installed but disabled)');
  });
  test("a cycle lists its members", () => {
    const r = registry(plugin("a", { requires: ["b"] }), plugin("b", { requires: ["c"] }), plugin("c", { requires: ["a"] }));
    expect(() => r.resolve(["a", "b", "c"])).toThrow("plugin dependency cycle: a → b → c → a");
  });
  test("an enabled plugin that is not installed", () => {
    expect(() => registry(plugin("a")).resolve(["nope"])).toThrow('plugin "nope" is enabled but not installed');
  });
  test("a plugin requiring its own capability is not a cycle", () => {
    const r = registry(plugin("a", { provides: ["x"], requires: ["x"] }));
    expect(names(r.resolve(["a"]))).toEqual(["a"]);
  });
});

describe("presets", () => {
  const available = [
    plugin("scheduler", { roles: ["server"] }),
    plugin("node-agent", { roles: ["agent"] }),
    plugin("both", { roles: ["server", "agent"] }),
    plugin("defaulted"),
  ];
  test("server, agent and all-in-one pick plugins by role", () => {
    expect(enabledPlugins("server", available, {})).toEqual(["scheduler", "both", "defaulted"]);
    expect(enabledPlugins("agent", available, {})).toEqual(["node-agent", "both"]);
    expect(enabledPlugins("all-in-one", available, {})).toEqual(["scheduler", "node-agent", "both", "defaulted"]);
  });
  test("config disables and enables by name; flags win over the file", () => {
    const cfg = { plugins: { scheduler: { enabled: false }, "node-agent": { enabled: true } } };
    expect(enabledPlugins("server", available, cfg)).toEqual(["node-agent", "both", "defaulted"]);
    expect(enabledPlugins("server", available, cfg, { enable: ["scheduler"], disable: ["both"] })).toEqual([
      "scheduler",
      "node-agent",
      "defaulted",
    ]);
  });
  test("configuring a plugin that is not installed is an error", () => {
    expect(() => enabledPlugins("server", available, { plugins: { shceduler: { enabled: false } } })).toThrow(
      'plugin "shceduler" is configured but not installed',
    );
  });
});

describe("config files", () => {
  test("a valid file parses", () => {
    const c = parseConfig("preset: server\nplugins:\n  scheduler:\n    enabled: false\n", "skiff.yaml");
    expect(c.preset).toBe("server");
    expect(c.plugins?.scheduler?.enabled).toBe(false);
  });
  const bad: [string, string][] = [
    ["preset: everything\n", 'skiff.yaml: preset: must be one of "all-in-one", "server", "agent"'],
    ["presett: server\n", "skiff.yaml: presett: unknown field"],
    ["plugins:\n  scheduler:\n    enabled: nope\n", "skiff.yaml: plugins.scheduler.enabled: must be boolean"],
    ["plugins:\n  scheduler:\n    enable: true\n", "skiff.yaml: plugins.scheduler.enable: unknown field"],
    ["plugins:\n  x: 3\n", "skiff.yaml: plugins.x: must be object"],
    ["listen: 6443\n", "skiff.yaml: listen: must be string"],
    ["a: [\n", "skiff.yaml: not valid YAML"],
  ];
  for (const [text, message] of bad) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      expect(() => parseConfig(text, "skiff.yaml")).toThrow(message);
    });
  }

  const schemaPlugin = plugin("scheduler", {
    configSchema: {
      additionalProperties: false,
      properties: {
        percentageOfNodesToScore: { type: "integer", minimum: 0, maximum: 100, default: 50 },
        profiles: { type: "array", items: { type: "object", properties: { name: { type: "string" } } } },
      },
    },
  });
  test("plugin config gets its schema defaults", () => {
    expect(pluginConfig(schemaPlugin, {})).toEqual({ percentageOfNodesToScore: 50 });
  });
  test("plugin config errors name the plugin, field and reason", () => {
    expect(() => pluginConfig(schemaPlugin, { percentageOfNodesToScore: 120 })).toThrow(
      'plugin "scheduler": config.percentageOfNodesToScore: must be <= 100',
    );
    expect(() => pluginConfig(schemaPlugin, { percentOfNodes: 1 })).toThrow('plugin "scheduler": config.percentOfNodes: unknown field');
    expect(() => pluginConfig(schemaPlugin, { profiles: [{ name: 3 }] })).toThrow('plugin "scheduler": config.profiles[0].name: must be string');
  });
  test("defaults without validation (empty config) match ajv's useDefaults, nested ones included", () => {
    const nested = plugin("nested", {
      configSchema: {
        properties: {
          leader: { type: "object", default: {}, properties: { enabled: { type: "boolean", default: true }, lease: { type: "integer", default: 15 } } },
          list: { type: "array", default: [{}], items: { type: "object", properties: { w: { type: "integer", default: 1 } } } },
          absent: { type: "object", properties: { x: { type: "integer", default: 1 } } },
        },
      },
    });
    const fast = pluginConfig(nested, {});
    expect(fast).toEqual({ leader: { enabled: true, lease: 15 }, list: [{ w: 1 }] });
    // The validating path (a non-empty config) fills the same defaults.
    expect(pluginConfig(nested, { absent: {} })).toEqual({ leader: { enabled: true, lease: 15 }, list: [{ w: 1 }], absent: { x: 1 } });
  });

  test("the given config is not changed by defaulting", () => {
    const given = {};
    pluginConfig(schemaPlugin, given);
    expect(given).toEqual({});
  });
});
