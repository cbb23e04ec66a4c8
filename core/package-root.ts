/**
 * @module The package's root directory, for the few files the code reads at
 * run time (SQL migrations, the CRI proto). This module sits one level below
 * the root in the source tree (`core/`) and so does the start-up bundle
 * (`dist/skiff.js`, built by `scripts/build.ts`), so one relative URL finds
 * the root from both. Anything that reads a file next to its own module
 * should go through here, or it breaks in the bundle.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** `rel` (a path from the package root) as an absolute path. */
export function packagePath(...rel: string[]): string {
  return join(PACKAGE_ROOT, ...rel);
}
