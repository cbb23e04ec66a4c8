/**
 * @module Libraries loaded on first use instead of at start-up (each costs
 * 20–40 ms to import, and a server may never need them: YAML bodies, CRD
 * schemas, a config file). `createRequire` keeps the call synchronous on
 * Bun, Node and Deno.
 */
import { createRequire } from "node:module";
import type AjvType from "ajv";
import type * as Yaml from "yaml";

const require = createRequire(import.meta.url);

let ajv: typeof AjvType | undefined;
/** The Ajv class. */
export function Ajv(): typeof AjvType {
  ajv ??= (require("ajv") as { default: typeof AjvType }).default;
  return ajv;
}

let yaml: typeof Yaml | undefined;
/** The `yaml` package. */
export function yamlLib(): typeof Yaml {
  yaml ??= require("yaml") as typeof Yaml;
  return yaml;
}
