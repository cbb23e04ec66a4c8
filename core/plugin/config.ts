/**
 * @module `skiff.yaml`: which preset, which plugins are enabled, disabled or
 * installed, and each plugin's config. The file is validated as a whole
 * (unknown keys are errors: a typo must not be silently ignored), then each
 * enabled plugin's `config` against the plugin's own schema, with schema
 * defaults filled in. Every error is one line naming the file or plugin, the
 * field and the reason.
 *
 * ```yaml
 * preset: all-in-one            # all-in-one | server | agent
 * plugins:
 *   scheduler: { enabled: false }
 *   greetings: { enabled: true, config: { workers: 2 } }   # `skiff plugins add` writes `enabled: true`
 * ```
 *
 * Which third-party plugins are installed is not in this file: it is the
 * dependency list of `<dataDir>/plugins/package.json` (see loader.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import type AjvClass from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import { Ajv, yamlLib } from "../lazy.ts";
import { PluginError } from "./registry.ts";
import type { Plugin } from "./types.ts";

export const PRESETS = ["all-in-one", "server", "agent"] as const;
export type PresetName = (typeof PRESETS)[number];

export interface PluginSettings {
  enabled?: boolean;
  config?: Record<string, unknown>;
}

export interface SkiffConfig {
  preset?: PresetName;
  dataDir?: string;
  listen?: string;
  runtime?: string;
  nodeName?: string;
  /** Agent: the server's URL and join token. */
  server?: string;
  token?: string;
  plugins?: Record<string, PluginSettings>;
}

const FILE_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    preset: { enum: [...PRESETS] },
    dataDir: { type: "string", minLength: 1 },
    listen: { type: "string", pattern: "^(\\[[^\\]]+\\]|[^:]*):\\d+$" },
    runtime: { type: "string", minLength: 1 },
    nodeName: { type: "string", minLength: 1 },
    server: { type: "string", pattern: "^https?://" },
    token: { type: "string" },
    plugins: {
      type: "object",
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        properties: { enabled: { type: "boolean" }, config: { type: "object" } },
      },
    },
  },
} as const;

let ajvInstance: AjvClass | undefined;
/** Created on first use (see core/lazy.ts). */
function ajv(): AjvClass {
  const A = Ajv();
  ajvInstance ??= new A({ allErrors: false, useDefaults: true, strict: false });
  return ajvInstance;
}
let fileValidator: ValidateFunction | undefined;
/** Compiled on first use: start-up without a config file does not pay for it. */
function validateFile(doc: unknown): boolean {
  fileValidator ??= ajv().compile(FILE_SCHEMA);
  return fileValidator(doc);
}

/** `a.b[0].c: must be boolean`, from an ajv error. */
export function describeAjvError(e: ErrorObject, root: string): string {
  let path = root;
  for (const seg of e.instancePath.split("/").slice(1)) {
    const s = seg.replace(/~1/g, "/").replace(/~0/g, "~");
    path += /^\d+$/.test(s) ? `[${s}]` : `${path ? "." : ""}${s}`;
  }
  const p = e.params as Record<string, unknown>;
  let why = e.message ?? "is invalid";
  if (e.keyword === "additionalProperties") {
    path += `${path ? "." : ""}${String(p.additionalProperty)}`;
    why = "unknown field";
  } else if (e.keyword === "enum") {
    why = `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  } else if (e.keyword === "required") {
    path += `${path ? "." : ""}${String(p.missingProperty)}`;
    why = "is required";
  }
  return `${path || "(top level)"}: ${why}`;
}

/** Parses and validates a config file's text; `file` is used in error messages. */
export function parseConfig(text: string, file: string): SkiffConfig {
  let doc: unknown;
  try {
    doc = yamlLib().parse(text) ?? {};
  } catch (e) {
    throw new PluginError(`${file}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!validateFile(doc)) throw new PluginError(`${file}: ${describeAjvError(fileValidator!.errors![0]!, "")}`);
  return doc as SkiffConfig;
}

/** Reads a config file; a missing file is an empty config only when `optional`. */
export function loadConfig(file: string, optional = false): SkiffConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (optional && (e as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new PluginError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfig(text, file);
}

export function saveConfig(file: string, config: SkiffConfig): void {
  writeFileSync(file, yamlLib().stringify(config), { mode: 0o600 });
}

const compiled = new WeakMap<object, ValidateFunction>();

/**
 * Schema defaults into `value`, as ajv's `useDefaults` fills them: a missing
 * property with a `default` gets a copy of it, then present objects and
 * array items are filled from their own schemas.
 */
function applyDefaults(schema: Record<string, unknown>, value: unknown): void {
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    const items = schema.items as Record<string, unknown> | undefined;
    if (items && typeof items === "object") for (const v of value) applyDefaults(items, v);
    return;
  }
  const o = value as Record<string, unknown>;
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const [k, ps] of Object.entries(props)) {
    if (o[k] === undefined && ps.default !== undefined) o[k] = structuredClone(ps.default);
    if (o[k] !== undefined) applyDefaults(ps, o[k]);
  }
}

/**
 * The validated config of one plugin (schema defaults applied to a copy).
 * Plugins without a schema accept any object. An empty config against a
 * schema that requires nothing only gets its defaults: compiling every
 * plugin's schema with ajv would cost start-up ~250 ms for nothing.
 */
export function pluginConfig(plugin: Plugin<never>, given: Record<string, unknown> | undefined): Record<string, unknown> {
  const value = structuredClone(given ?? {});
  const schema = plugin.manifest.configSchema;
  if (!schema) return value;
  const required = (schema.required as unknown[] | undefined) ?? [];
  if (Object.keys(value).length === 0 && required.length === 0) {
    applyDefaults(schema, value);
    return value;
  }
  let validate = compiled.get(schema);
  if (!validate) {
    try {
      validate = ajv().compile({ type: "object", ...schema });
    } catch (e) {
      throw new PluginError(`plugin "${plugin.manifest.name}": its config schema is invalid: ${(e as Error).message}`);
    }
    compiled.set(schema, validate);
  }
  if (!validate(value)) {
    throw new PluginError(`plugin "${plugin.manifest.name}": ${describeAjvError(validate.errors![0]!, "config")}`);
  }
  return value;
}
