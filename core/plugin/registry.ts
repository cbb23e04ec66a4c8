/**
 * @module The explicit list of loaded plugins and the start order. Adding a
 * name twice is an error; `resolve` picks the enabled plugins for a role,
 * checks that every requirement is provided by an enabled plugin, and orders
 * them so each starts after everything it requires (ties keep the order
 * plugins were added in). Failures name the plugins involved.
 */
import type { Plugin, PluginRole } from "./types.ts";

export class PluginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PluginError";
  }
}

const NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/;

export function rolesOf(p: Plugin<never>): PluginRole[] {
  return p.manifest.roles ?? ["server"];
}

export class PluginRegistry {
  readonly #plugins = new Map<string, Plugin<never>>();

  /** Adds a plugin; a second plugin with the same name is refused. */
  add(plugin: Plugin<never>, source = "built-in"): void {
    const m = plugin?.manifest;
    if (!m || typeof m.name !== "string" || typeof m.version !== "string") {
      throw new PluginError(`${source}: not a plugin (it needs a manifest with a name and a version)`);
    }
    if (!NAME.test(m.name)) throw new PluginError(`${source}: invalid plugin name ${JSON.stringify(m.name)}`);
    if (this.#plugins.has(m.name)) throw new PluginError(`duplicate plugin name "${m.name}" (from ${source})`);
    this.#plugins.set(m.name, plugin);
  }

  get(name: string): Plugin<never> | undefined {
    return this.#plugins.get(name);
  }

  all(): Plugin<never>[] {
    return [...this.#plugins.values()];
  }

  /**
   * The plugins named in `enabled` (which must all be registered), in start
   * order. Throws a PluginError for an unknown name, a requirement no enabled
   * plugin provides, or a dependency cycle.
   */
  resolve(enabled: Iterable<string>): Plugin<never>[] {
    const chosen: Plugin<never>[] = [];
    for (const name of enabled) {
      const p = this.#plugins.get(name);
      if (!p) throw new PluginError(`plugin "${name}" is enabled but not installed`);
      if (!chosen.includes(p)) chosen.push(p);
    }
    const providers = new Map<string, Plugin<never>[]>();
    for (const p of chosen) {
      for (const cap of [p.manifest.name, ...(p.manifest.provides ?? [])]) {
        const list = providers.get(cap) ?? [];
        list.push(p);
        providers.set(cap, list);
      }
    }
    const deps = new Map<Plugin<never>, Plugin<never>[]>();
    for (const p of chosen) {
      const d: Plugin<never>[] = [];
      for (const req of p.manifest.requires ?? []) {
        const by = providers.get(req);
        if (!by) {
          const installed = this.#plugins.has(req) ? " (it is installed but disabled)" : "";
          throw new PluginError(`plugin "${p.manifest.name}" requires "${req}", which no enabled plugin provides${installed}`);
        }
        for (const q of by) if (q !== p && !d.includes(q)) d.push(q);
      }
      deps.set(p, d);
    }
    // Depth-first topological sort; a grey node seen again is a cycle.
    const order: Plugin<never>[] = [];
    const state = new Map<Plugin<never>, "grey" | "black">();
    const path: Plugin<never>[] = [];
    const visit = (p: Plugin<never>) => {
      const s = state.get(p);
      if (s === "black") return;
      if (s === "grey") {
        const cycle = [...path.slice(path.indexOf(p)), p].map((x) => x.manifest.name);
        throw new PluginError(`plugin dependency cycle: ${cycle.join(" → ")}`);
      }
      state.set(p, "grey");
      path.push(p);
      for (const d of deps.get(p)!) visit(d);
      path.pop();
      state.set(p, "black");
      order.push(p);
    };
    for (const p of chosen) visit(p);
    return order;
  }
}
