/**
 * @module Installing and loading third-party plugins.
 *
 * Plugins are npm packages installed with npm into `<dataDir>/plugins` (its
 * own package.json, so the project's dependencies are never touched). A
 * package's default export — or its export named `plugin` — is the plugin
 * object. `skiff plugins add` accepts what `npm install` accepts: a registry
 * name (`skiff-plugin-x@1.2`), a tarball, or a directory. Packages may be
 * TypeScript (Bun and Deno load it directly; on Node the CLI runs under tsx).
 * The plugins directory's package.json is the record of what is installed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PluginError } from "./registry.ts";
import type { Plugin } from "./types.ts";

export function pluginsDir(dataDir: string): string {
  return resolve(dataDir, "plugins");
}

function ensurePluginsPackage(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const pkg = join(dir, "package.json");
  if (!existsSync(pkg)) {
    writeFileSync(pkg, JSON.stringify({ name: "skiff-installed-plugins", private: true, dependencies: {} }, null, 2) + "\n");
  }
}

function dependencies(dir: string): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  return pkg.dependencies ?? {};
}

function npm(dir: string, args: string[]): void {
  const r = spawnSync("npm", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (r.error) throw new PluginError(`cannot run npm: ${r.error.message}`);
  if (r.status !== 0) {
    const line = (r.stderr || r.stdout).split("\n").find((l) => /ERR!/.test(l) && !/ERR! (A complete log|code )/.test(l));
    throw new PluginError(`npm ${args[0]} failed: ${(line ?? r.stderr.trim().split("\n").at(-1) ?? "").replace(/^npm (error|ERR!)\s*/, "")}`);
  }
}

/** Imports an installed package and returns its plugin object. */
export async function loadPackage(dataDir: string, pkg: string): Promise<Plugin<never>> {
  const root = join(pluginsDir(dataDir), "node_modules", pkg);
  let manifest: { main?: string; exports?: unknown };
  try {
    manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  } catch {
    throw new PluginError(`plugin package "${pkg}" is not installed in ${pluginsDir(dataDir)} (run: skiff plugins add ${pkg})`);
  }
  const entry = entryOf(manifest) ?? "index.js";
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(join(root, entry)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new PluginError(`plugin package "${pkg}": cannot load ${entry}: ${(e as Error).message.split("\n")[0]}`);
  }
  const plugin = (mod.default ?? mod.plugin) as Plugin<never> | undefined;
  if (!plugin || typeof plugin !== "object" || !plugin.manifest?.name || !plugin.manifest.version) {
    throw new PluginError(`package "${pkg}" does not export a plugin (a default export with a manifest { name, version })`);
  }
  return plugin;
}

function entryOf(pkg: { main?: string; exports?: unknown }): string | undefined {
  const e = pkg.exports;
  const pick = (v: unknown): string | undefined => {
    if (typeof v === "string") return v;
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      return pick(o["."] ?? o.bun ?? o.import ?? o.default);
    }
    return undefined;
  };
  return pick(e) ?? pkg.main;
}

/**
 * Installs `spec` with npm and returns the plugin it holds with its package
 * name. A package that turns out not to be a plugin is uninstalled again.
 */
export interface InstalledPlugin {
  plugin: Plugin<never>;
  /** The npm package name under the plugins directory's node_modules. */
  package: string;
}

export async function installPlugin(dataDir: string, spec: string, cwd = process.cwd()): Promise<InstalledPlugin> {
  const dir = pluginsDir(dataDir);
  ensurePluginsPackage(dir);
  const before = dependencies(dir);
  // A path is resolved against where the user ran the command, not the plugins dir.
  // (`examples/plugins/x` is a directory here, not a GitHub shorthand, when it exists.)
  const looksLocal = spec.startsWith(".") || isAbsolute(spec) || /\.(tgz|tar\.gz)$/.test(spec);
  const local = looksLocal || existsSync(resolve(cwd, spec));
  const target = local ? resolve(cwd, spec) : spec;
  if (local && !existsSync(target)) throw new PluginError(`no such file or directory: ${spec}`);
  // --install-links copies a directory instead of symlinking it, so the
  // installed plugin does not change under the server when its source does.
  npm(dir, ["install", "--no-audit", "--no-fund", "--install-links", "--save", target]);
  const after = dependencies(dir);
  const pkg = local && existsSync(join(target, "package.json"))
    ? (JSON.parse(readFileSync(join(target, "package.json"), "utf8")) as { name?: string }).name
    : (Object.keys(after).find((k) => before[k] !== after[k]) ?? registryName(spec));
  if (!pkg || !(pkg in after)) throw new PluginError(`npm installed ${spec} but no package was recorded in ${dir}/package.json`);
  try {
    return { plugin: await loadPackage(dataDir, pkg), package: pkg };
  } catch (e) {
    npm(dir, ["uninstall", "--no-audit", "--no-fund", pkg]);
    throw e;
  }
}

/** `@scope/name@1.2` → `@scope/name`. */
function registryName(spec: string): string {
  const at = spec.indexOf("@", 1);
  return at > 0 ? spec.slice(0, at) : spec;
}

export function uninstallPlugin(dataDir: string, pkg: string): void {
  const dir = pluginsDir(dataDir);
  if (!existsSync(join(dir, "package.json"))) return;
  npm(dir, ["uninstall", "--no-audit", "--no-fund", pkg]);
}

/** Loads every installed plugin; errors name the package. */
export async function loadInstalled(dataDir: string): Promise<InstalledPlugin[]> {
  const dir = pluginsDir(dataDir);
  if (!existsSync(join(dir, "package.json"))) return [];
  const out: InstalledPlugin[] = [];
  for (const pkg of Object.keys(dependencies(dir)).sort()) out.push({ plugin: await loadPackage(dataDir, pkg), package: pkg });
  return out;
}
