/**
 * @module Presets: which plugins a process runs. `server` runs every plugin
 * whose roles include "server", `agent` every one whose roles include
 * "agent", `all-in-one` both (one process acting as server and local node).
 * The config then disables (`enabled: false`) or enables plugins by name;
 * installed third-party plugins are enabled unless disabled. Of the runtime
 * adapters (plugins providing a `runtime:<name>` capability) only the chosen
 * runtime's is enabled by default.
 */
import type { PresetName, SkiffConfig } from "./config.ts";
import { PluginError, rolesOf } from "./registry.ts";
import type { Plugin, PluginRole } from "./types.ts";

export function rolesOfPreset(preset: PresetName): PluginRole[] {
  return preset === "all-in-one" ? ["server", "agent"] : [preset];
}

/**
 * The names of the plugins to run, in the order they were made available
 * (built-ins first, then installed ones). `available` holds every loaded
 * plugin; `installed` names the third-party ones among them.
 */
export function enabledPlugins(
  preset: PresetName,
  available: readonly Plugin<never>[],
  config: Pick<SkiffConfig, "plugins">,
  extra: { enable?: string[]; disable?: string[]; runtime?: string } = {},
): string[] {
  const roles = rolesOfPreset(preset);
  const known = new Set(available.map((p) => p.manifest.name));
  const settings = config.plugins ?? {};
  for (const name of [...Object.keys(settings), ...(extra.enable ?? []), ...(extra.disable ?? [])]) {
    if (!known.has(name)) {
      throw new PluginError(`plugin "${name}" is configured but not installed (installed: ${[...known].sort().join(", ") || "none"})`);
    }
  }
  const out: string[] = [];
  for (const p of available) {
    const name = p.manifest.name;
    let on = rolesOf(p).some((r) => roles.includes(r));
    const runtimes = (p.manifest.provides ?? []).filter((c) => c.startsWith("runtime:"));
    if (runtimes.length > 0 && !runtimes.includes(`runtime:${extra.runtime ?? "process"}`)) on = false;
    const s = settings[name];
    if (s?.enabled !== undefined) on = s.enabled;
    if (extra.enable?.includes(name)) on = true;
    if (extra.disable?.includes(name)) on = false;
    if (on) out.push(name);
  }
  return out;
}

/** The runtime names the available adapters provide (`process`, `fake`, …). */
export function availableRuntimes(available: readonly Plugin<never>[]): string[] {
  const out = new Set<string>();
  for (const p of available) for (const c of p.manifest.provides ?? []) if (c.startsWith("runtime:")) out.add(c.slice(8));
  return [...out].sort();
}
