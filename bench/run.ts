/**
 * @module Benchmark dispatcher: `npm run bench -- <scenario> [--driver bun-sqlite|libsql]
 * [--durability full|normal] [--quick]`. Scenarios are the kebab-case .ts files
 * directly in bench/ (helpers live in bench/lib/); each exports
 * `main(args, opts): Promise<BenchResult>`. Progress goes to stderr; the last
 * line of stdout is one JSON object: {"scenario","metrics","targets","env"}.
 * Exit codes: 0 done, 1 the scenario failed, 2 bad usage.
 */
import { readdirSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { defaultDriver } from "../core/store/sql/driver.ts";
import { type BenchOptions, type BenchResult, parseBenchArgs, progress, round, UsageError } from "./lib/common.ts";

const here = dirname(fileURLToPath(import.meta.url));

function scenarios(): string[] {
  return readdirSync(here, { withFileTypes: true })
    .filter((e) => e.isFile() && /^[a-z0-9]+(-[a-z0-9]+)*\.ts$/.test(e.name) && e.name !== "run.ts")
    .map((e) => e.name.slice(0, -3))
    .sort();
}

function usage(message: string): never {
  process.stderr.write(`bench: ${message}; scenarios: ${scenarios().join(", ")}\n`);
  process.exit(2);
}

function env(opts: BenchOptions): Record<string, string | number | boolean> {
  const bun = (globalThis as { Bun?: { version: string } }).Bun;
  return {
    runtime: bun ? "bun" : "node",
    runtime_version: bun ? bun.version : process.versions.node,
    driver: opts.driver ?? defaultDriver(),
    durability: opts.durability ?? "full",
    cpus: typeof availableParallelism === "function" ? availableParallelism() : cpus().length,
    platform: `${process.platform}-${process.arch}`,
    quick: opts.quick,
  };
}

async function run(): Promise<void> {
  let parsed: ReturnType<typeof parseBenchArgs>;
  try {
    parsed = parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) usage(e.message);
    throw e;
  }
  const [name, ...args] = parsed.rest;
  if (name === undefined) usage("missing scenario name");
  if (!scenarios().includes(name)) usage(`unknown scenario "${name}"`);
  const mod = (await import(pathToFileURL(`${here}/${name}.ts`).href)) as {
    main?: (args: string[], opts: BenchOptions) => Promise<BenchResult>;
  };
  if (typeof mod.main !== "function") usage(`bench/${name}.ts exports no main()`);

  const e = env(parsed.opts);
  progress(name, "start", { driver: String(e.driver), durability: String(e.durability), quick: parsed.opts.quick });
  const t0 = performance.now();
  let result: BenchResult;
  try {
    result = await mod.main(args, parsed.opts);
  } catch (err) {
    process.stderr.write(`bench=${name} step=failed error=${JSON.stringify(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    process.exitCode = 1;
    return;
  }
  progress(name, "done", { secs: round((performance.now() - t0) / 1000, 1) });
  process.stdout.write(JSON.stringify({ scenario: name, metrics: result.metrics, targets: result.targets, env: e }) + "\n");
}

await run();
