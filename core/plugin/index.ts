/** @module The plugin kernel's public API. */
export * from "./types.ts";
export * from "./scheduler-framework.ts";
export { Tokens } from "./tokens.ts";
export { PluginRegistry, PluginError } from "./registry.ts";
export { PluginHost, type PluginStatus, type PluginState } from "./host.ts";
export { nodeIdentity, serviceAccountIdentity } from "./identity.ts";
export { enabledPlugins, rolesOfPreset } from "./presets.ts";
export { parseConfig, loadConfig, pluginConfig, PRESETS, type SkiffConfig, type PluginSettings, type PresetName } from "./config.ts";
export type { RuntimeAdapter, RuntimeCapabilities } from "../runtime/adapter.ts";
