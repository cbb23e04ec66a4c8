/**
 * The embedding example (examples/embed/main.ts) runs on Bun, Node and Deno:
 * a kernel in-process with the built-in plugins plus the program's own, the
 * in-process client, and a clean stop (the process exits 0 by itself).
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempDir } from "./harness.ts";

setDefaultTimeout(90_000);

const MAIN = join(ROOT, "examples", "embed", "main.ts");
const RUNTIMES: Record<string, string[]> = {
  bun: [process.execPath, MAIN],
  node: [process.env.SKIFF_NODE ?? "node", "--import", "tsx", MAIN],
  deno: [join(ROOT, "node_modules", ".bin", "deno"), "run", "--allow-all", MAIN],
};

for (const [runtime, cmd] of Object.entries(RUNTIMES)) {
  for (const store of ["memory", "file"] as const) {
    test(`examples/embed on ${runtime} with a ${store} store`, () => {
      const dir = store === "file" ? tempDir("skiff-embed-") : undefined;
      try {
        const r = spawnSync(cmd[0]!, [...cmd.slice(1), ...(dir ? [join(dir, "state")] : [])], {
          cwd: ROOT,
          encoding: "utf8",
          timeout: 60_000,
          env: { ...process.env, SKIFF_LOG_LEVEL: "warn" },
        });
        expect(r.stderr).toBe("");
        expect(r.stdout).toBe(
          ["MODIFIED configmap/settings size=8", "configmaps in default: kube-root-ca.crt, settings", "plugin configmap-sizer: running", "stopped cleanly", ""].join("\n"),
        );
        expect(r.status).toBe(0);
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}
