/**
 * python3-kubernetes (Debian's package, 22.6) against a server the test
 * starts: CRUD with typed errors, and watch.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKernel, type Kernel } from "../../core/kernel.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(60_000);
const PYTHON = "/usr/bin/python3";
const hasClient = spawnSync(PYTHON, ["-c", "import kubernetes"], { encoding: "utf8" }).status === 0;

describeWith("python3-kubernetes", hasClient, "python3-kubernetes (apt-get install python3-kubernetes)", () => {
  let kernel: Kernel;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "skiff-python-"));
    kernel = await createKernel({ dataDir: dir, listen: { host: "127.0.0.1", port: 0 } });
  });
  afterAll(async () => {
    await kernel?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("CRUD and watch", async () => {
    // Asynchronously: the server runs in this process and must keep answering.
    const p = Bun.spawn([PYTHON, join(import.meta.dir, "python", "crud_watch.py"), kernel.kubeconfigPath!], { stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => p.kill(), 50_000);
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    clearTimeout(timer);
    if (code !== 0) throw new Error(`python failed (${code}): ${stderr}`);
    const out = JSON.parse(stdout.trim().split("\n").pop()!);
    expect(out.read_data).toEqual({ a: "1" });
    expect(out.replaced_data).toEqual({ a: "2" });
    expect(out.stale).toEqual([409, "Conflict"]);
    expect(out.patched_labels).toEqual({ py: "yes", patched: "1" });
    expect(out.list).toEqual(["py1"]);
    expect(out.deployment_strategy).toBe("RollingUpdate");
    expect(out.pod_phase).toBe("Pending");
    expect(out.pods).toEqual(["pypod"]);
    expect(out.events).toEqual([
      ["ADDED", "py2"],
      ["MODIFIED", "py2"],
      ["DELETED", "py2"],
    ]);
    expect(out.after_delete).toBe(404);
  });
});
