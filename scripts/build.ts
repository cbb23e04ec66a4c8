#!/usr/bin/env bun
/**
 * @module Builds the start-up bundle `dist/skiff.js`: the `skiff` command and
 * everything it imports in one CommonJS file, with JSC bytecode next to it
 * (`dist/skiff.js.jsc`). `npm start` runs the bundle; the source tree runs
 * the same code unbundled (`bun core/cli/main.ts`, Node, Deno, the tests).
 *
 * Why: a server start loads ~950 modules. Resolving, transpiling and parsing
 * them is most of the time to `/readyz`; precompiled bytecode in one file cuts
 * the server's CPU to ready by about 40% (see `bench/startup.ts`, which runs
 * both).
 *
 * `--if-stale` (what `npm start` uses) rebuilds only when a source file, the
 * lockfile or the Bun version is newer than the bundle, so an edited tree is
 * never served from an old bundle. The bundle must sit one level below the
 * package root (see `core/package-root.ts`), so it is always `dist/`.
 *
 * Dynamic imports (`@peculiar/x509`, prom-client) are bundled and evaluated
 * only when first imported, so a first start creates its certificates with
 * precompiled code. Not bundled: packages loaded lazily through
 * `createRequire` (gRPC, yaml, ajv), which resolve from `node_modules` at run
 * time as before, and `libsql` (a native addon, used on Node and Deno only).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { PACKAGE_ROOT } from "../core/package-root.ts";

const ENTRY = join(PACKAGE_ROOT, "core/cli/main.ts");
const SOURCES = ["core", "plugins", "runtime-adapters", "index.ts", "package.json", "package-lock.json"];

/** The newest modification time among the sources (TypeScript, JSON and proto files). */
function newestSource(): number {
  let newest = 0;
  const visit = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) if (e !== "node_modules" && !e.startsWith(".")) visit(join(p, e));
    } else if (/\.(ts|json|proto|sql)$/.test(p) && !/\.test\.ts$/.test(p)) {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const s of SOURCES) visit(join(PACKAGE_ROOT, s));
  return newest;
}

interface Stamp {
  bun: string;
}

/** Whether `outdir` holds a bundle built by this Bun from sources no newer than it. */
export function bundleFresh(outdir = join(PACKAGE_ROOT, "dist")): boolean {
  const out = join(outdir, "skiff.js");
  const stampFile = join(outdir, "build.json");
  if (!existsSync(out) || !existsSync(`${out}.jsc`) || !existsSync(stampFile)) return false;
  try {
    const stamp = JSON.parse(readFileSync(stampFile, "utf8")) as Stamp;
    if (stamp.bun !== Bun.version) return false;
  } catch {
    return false;
  }
  return statSync(out).mtimeMs >= newestSource();
}

/** Builds `outdir/skiff.js` (+ `.jsc`); throws with the bundler's messages when it fails. */
export async function buildBundle(outdir = join(PACKAGE_ROOT, "dist")): Promise<{ path: string; ms: number }> {
  const t0 = performance.now();
  mkdirSync(outdir, { recursive: true });
  const result = await Bun.build({
    entrypoints: [ENTRY],
    outdir,
    target: "bun",
    format: "cjs",
    bytecode: true,
    naming: "skiff.[ext]",
    external: ["libsql"],
    // Keep names readable in stack traces and logs.
    minify: { whitespace: true, syntax: true, identifiers: false },
  });
  if (!result.success) {
    throw new Error(`bundle failed:\n${result.logs.map((l) => String(l)).join("\n")}`);
  }
  writeFileSync(join(outdir, "build.json"), `${JSON.stringify({ bun: Bun.version } satisfies Stamp)}\n`);
  return { path: join(outdir, "skiff.js"), ms: performance.now() - t0 };
}

if (import.meta.main) {
  const outdir = join(PACKAGE_ROOT, "dist");
  if (process.argv.includes("--if-stale") && bundleFresh(outdir)) process.exit(0);
  try {
    const { path, ms } = await buildBundle(outdir);
    process.stderr.write(`skiff: built ${relative(process.cwd(), path) || path} in ${Math.round(ms)} ms\n`);
  } catch (e) {
    process.stderr.write(`skiff: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
