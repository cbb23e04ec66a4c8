/**
 * `npm start` as a user runs it: the `prestart` script builds the start-up
 * bundle when the sources are newer (`scripts/build.ts --if-stale`), then
 * `bun dist/skiff.js server` serves the API over TLS with its generated
 * kubeconfig, which kubectl uses as is. Also: the bundle finds the files it
 * reads at run time (the SQL migrations) from `dist/`, and a second start
 * skips the build.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleFresh } from "../../scripts/build.ts";
import { fetchWith, haveKubectl, kubeconfigTls, ROOT, until } from "./harness.ts";
import { describeWith } from "./require.ts";

interface Started {
  proc: ChildProcess;
  url: string;
  log: () => string;
}

function npmStart(dataDir: string): Promise<Started> {
  // Its own process group, so stopping it stops npm's child too.
  const proc = spawn("npm", ["start", "--", "--data-dir", dataDir, "--listen", "127.0.0.1:0"], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, SKIFF_LOG_LEVEL: "info" },
  });
  let out = "";
  const log = () => out;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not serve within 60 s:\n${out.slice(-3000)}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /"msg":"serving"/.test(out) && /"url":"(https:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1]!, log });
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited ${code}:\n${out.slice(-3000)}`));
    });
  });
}

async function stop(s: Started): Promise<void> {
  if (s.proc.exitCode !== null) return;
  const exited = new Promise((r) => s.proc.once("exit", r));
  process.kill(-s.proc.pid!, "SIGTERM");
  const t = setTimeout(() => process.kill(-s.proc.pid!, "SIGKILL"), 10_000);
  await exited;
  clearTimeout(t);
}

describeWith("npm start (the start-up bundle)", haveKubectl(), "kubectl", () => {
  const dir = mkdtempSync(join(tmpdir(), "skiff-npm-start-"));
  const data = join(dir, "data");
  let first: Started | undefined;

  beforeAll(async () => {
    first = await npmStart(data);
  }, 120_000);

  afterAll(async () => {
    if (first) await stop(first);
    rmSync(dir, { recursive: true, force: true });
  });

  test("serves the API from dist/skiff.js; the generated kubeconfig works with kubectl", async () => {
    expect(existsSync(join(ROOT, "dist", "skiff.js"))).toBe(true);
    expect(existsSync(join(ROOT, "dist", "skiff.js.jsc"))).toBe(true);
    expect(bundleFresh()).toBe(true);
    // The process serving is the bundle, not the source tree.
    const ps = spawnSync("ps", ["-o", "args=", "-g", String(first!.proc.pid)], { encoding: "utf8" }).stdout;
    expect(ps).toContain("dist/skiff.js server");
    const kubeconfig = join(data, "kubeconfig.yaml");
    const tls = kubeconfigTls(kubeconfig);
    expect(tls).toBeDefined();
    const ready = await fetchWith(tls, `${first!.url}/readyz`);
    expect(ready.status).toBe(200);
    const ns = spawnSync("kubectl", ["get", "ns", "-o", "name"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: dir, KUBECONFIG: kubeconfig } });
    expect(ns.status).toBe(0);
    expect(ns.stdout.split("\n")).toContain("namespace/default");
    // The migrations were found from dist/: the database has the schema.
    const created = spawnSync("kubectl", ["create", "configmap", "from-bundle", "--from-literal=a=b"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: dir, KUBECONFIG: kubeconfig },
    });
    expect(created.status).toBe(0);
    // Anonymous clients get 401 from the bundle too.
    expect((await fetchWith({ ca: tls!.ca }, `${first!.url}/api/v1/namespaces`)).status).toBe(401);
  });

  test("a restart with fresh sources skips the build and reuses the data dir", async () => {
    await stop(first!);
    const built = statSync(join(ROOT, "dist", "skiff.js")).mtimeMs;
    first = await npmStart(data);
    expect(first.log()).not.toContain("built dist/skiff.js");
    expect(statSync(join(ROOT, "dist", "skiff.js")).mtimeMs).toBe(built);
    const kubeconfig = join(data, "kubeconfig.yaml");
    await until("the configmap survives the restart", () => {
      const r = spawnSync("kubectl", ["get", "configmap", "from-bundle", "-o", "jsonpath={.data.a}"], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", HOME: dir, KUBECONFIG: kubeconfig },
      });
      return r.status === 0 && r.stdout === "b";
    });
  }, 120_000);
});
