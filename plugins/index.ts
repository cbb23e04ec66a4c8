/**
 * @module The built-in plugin catalog: every plugin that ships with Skiff.
 * Listed explicitly (nothing registers itself on import); the preset and
 * `skiff.yaml` decide which of them run. Third-party plugins are loaded
 * from `<dataDir>/plugins` next to these.
 */
import type { Plugin } from "../core/plugin/types.ts";
import { controllerPlugins } from "./controllers/index.ts";
import scheduler from "./scheduler/index.ts";

export function builtinPlugins(): Plugin<never>[] {
  return [scheduler as Plugin<never>, ...controllerPlugins()];
}
