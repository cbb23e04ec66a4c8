/**
 * The store runs on Node and Deno too (with the libsql driver): each runtime
 * executes the same scenario in a child process. Both runtimes come from npm
 * devDependencies, so they are always present after `npm ci`.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const SCRIPT = join(ROOT, "test", "fixtures", "store-smoke.ts");
const BIN = join(ROOT, "node_modules", ".bin");

const RUNTIMES: Record<string, string[]> = {
  node: [process.env.SKIFF_NODE ?? "node", "--import", "tsx", SCRIPT],
  deno: [join(BIN, "deno"), "run", "--allow-all", SCRIPT],
};

describe("store on other runtimes", () => {
  for (const [name, cmd] of Object.entries(RUNTIMES)) {
    test(`${name}: libsql driver passes the smoke scenario`, () => {
      const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
      if (r.status !== 0) throw new Error(`${name} failed (${r.status}): ${r.stderr || r.error}`);
      const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
      expect(out).toEqual({
        runtime: name,
        driver: "libsql",
        conflict: "Conflict",
        events: ["ADDED:a", "ADDED:b"],
        pages: [["a"], ["b"]],
        revisionAfterReopen: 2,
      });
    }, 60_000);
  }
});
