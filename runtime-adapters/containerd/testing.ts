/**
 * @module Test helpers for the containerd adapter (not exported from
 * index.ts): a private containerd per test run through the scripts in
 * `scripts/` (unique socket, bridge and subnet so concurrent runs never
 * collide), a loopback `docker-registry` with optional htpasswd auth, and a
 * tiny pusher that uploads an image archive built by `scripts/mkimage.sh`
 * through the registry's HTTP API.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPTS = join(import.meta.dirname, "scripts");
export const MKIMAGE = join(import.meta.dirname, "..", "..", "scripts", "mkimage.sh");

/** Cleanups of what is still running, run at process exit (a test that timed out skips its hooks). */
const atExit = new Set<() => void>();
let exitHooked = false;
function onExit(fn: () => void): () => void {
  if (!exitHooked) {
    exitHooked = true;
    process.once("exit", () => {
      for (const f of atExit) f();
    });
  }
  atExit.add(fn);
  return () => atExit.delete(fn);
}

/** Why containerd tests cannot run here, or undefined when they can. */
export function containerdMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "root (containerd, runc and CNI need it)";
  for (const bin of ["containerd", "ctr", "runc"]) {
    if (spawnSync("sh", ["-c", `command -v ${bin}`]).status !== 0) return `${bin} (apt-get install containerd runc)`;
  }
  for (const p of ["/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/portmap"]) if (!existsSync(p)) return `${p} (apt-get install containernetworking-plugins)`;
  if (!existsSync("/bin/busybox")) return "busybox-static (apt-get install busybox-static)";
  return undefined;
}

/** Why the registry tests cannot run here, or undefined when they can. */
export function registryMissing(): string | undefined {
  return existsSync("/usr/bin/docker-registry") ? undefined : "docker-registry (apt-get install docker-registry)";
}

export interface TestContainerd {
  dir: string;
  socket: string;
  bridge: string;
  subnet: string;
  /** A cgroup parent unique to this instance (removed by `stop`). */
  cgroupParent: string;
  /** Lets containerd pull from `host:port` over plain HTTP. */
  allowInsecure(hostPort: string): void;
  /**
   * Stops containerd and removes everything it left behind. Idempotent.
   * `background`: in a detached child that outlives this process (for hooks
   * with a short timeout); it takes a few seconds.
   */
  stop(opts?: { background?: boolean }): Promise<void>;
}

/** Starts a private containerd under a fresh temporary directory. */
export function startContainerd(label = "skiff-ctrd-"): TestContainerd {
  const dir = mkdtempSync(join(tmpdir(), label));
  const tag = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, "0");
  const bridge = `skcd${tag}`;
  // 10.180–199.x.0/24: clear of the process runtime's tests (10.213/16) and defaults (10.88/16).
  const subnet = `10.${180 + (Number.parseInt(tag.slice(0, 2), 16) % 20)}.${Number.parseInt(tag.slice(2), 16)}.0/24`;
  const cgroupParent = `/skiff-ctrd-test-${tag}`;
  const stop = (background = false) => {
    const script = `"$0" "$1" "$2"; rm -rf "$3"`;
    const args = ["-c", script, join(SCRIPTS, "stop-containerd.sh"), join(dir, "state"), cgroupParent, dir];
    if (background) spawn("sh", args, { stdio: "ignore", detached: true }).unref();
    else spawnSync("sh", args, { stdio: "ignore", timeout: 120_000 });
  };
  try {
    execFileSync(join(SCRIPTS, "start-containerd.sh"), [join(dir, "state")], {
      env: { ...process.env, CNI_BRIDGE: bridge, CNI_SUBNET: subnet },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    });
  } catch (e) {
    const err = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    stop();
    throw new Error(`start-containerd.sh failed: ${err.trim()}`);
  }
  let stopped = false;
  const forget = onExit(() => stop());
  return {
    dir,
    socket: join(dir, "state", "containerd.sock"),
    bridge,
    subnet,
    cgroupParent,
    allowInsecure(hostPort) {
      execFileSync(join(SCRIPTS, "add-insecure-registry.sh"), [join(dir, "state"), hostPort]);
    },
    async stop(o = {}) {
      if (stopped) return;
      stopped = true;
      forget();
      stop(o.background);
    },
  };
}

/** A free TCP port on 127.0.0.1 (bound and released; fine for tests). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestRegistry {
  /** `127.0.0.1:PORT`. */
  host: string;
  stop(): Promise<void>;
}

/** Starts Debian's docker-registry (distribution 2.8) on loopback; with `users`, htpasswd (bcrypt) auth. */
export async function startRegistry(opts: { users?: Record<string, string> } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "skiff-registry-"));
  const port = await freePort();
  let auth = "";
  if (opts.users) {
    const bcrypt = (await import("bcryptjs")).default;
    writeFileSync(join(dir, "htpasswd"), Object.entries(opts.users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 8)}\n`).join(""));
    auth = `auth:\n  htpasswd:\n    realm: skiff-test\n    path: ${join(dir, "htpasswd")}\n`;
  }
  mkdirSync(join(dir, "data"));
  writeFileSync(
    join(dir, "config.yml"),
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const proc = spawn("/usr/bin/docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const forget = onExit(() => {
    proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const stop = async () => {
    forget();
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGKILL");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (r.status === 200 || r.status === 401) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline || proc.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry did not start: ${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host: `127.0.0.1:${port}`, stop };
}

/**
 * Pushes the image in an OCI-layout archive (as `scripts/mkimage.sh` builds
 * them) to `registry` as `repo:tag` through the registry's HTTP API.
 */
export async function pushArchive(archive: string, registry: string, repo: string, tag: string, creds?: { username: string; password: string }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "skiff-push-"));
  try {
    execFileSync("tar", ["-xf", archive, "-C", dir]);
    const headers: Record<string, string> = creds ? { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}` } : {};
    const blob = (digest: string) => readFileSync(join(dir, "blobs", "sha256", digest.replace(/^sha256:/, "")));
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { digest: string; mediaType: string }[] };
    const m = index.manifests[0]!;
    const manifestBytes = blob(m.digest);
    const manifest = JSON.parse(manifestBytes.toString("utf8")) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
      const start = await fetch(`http://${registry}/v2/${repo}/blobs/uploads/`, { method: "POST", headers });
      if (start.status !== 202) throw new Error(`starting an upload: HTTP ${start.status} ${await start.text()}`);
      const loc = new URL(start.headers.get("location")!, `http://${registry}`);
      loc.searchParams.set("digest", d);
      const put = await fetch(loc, { method: "PUT", headers: { ...headers, "content-type": "application/octet-stream" }, body: blob(d) });
      if (put.status !== 201) throw new Error(`uploading ${d}: HTTP ${put.status} ${await put.text()}`);
    }
    const put = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, { method: "PUT", headers: { ...headers, "content-type": m.mediaType }, body: manifestBytes });
    if (put.status !== 201) throw new Error(`pushing the manifest: HTTP ${put.status} ${await put.text()}`);
    return m.digest;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds a busybox image archive with scripts/mkimage.sh; returns its full name. */
export function mkimage(out: string, ref: string, cmd: string[]): string {
  const line = execFileSync(MKIMAGE, [out, ref, ...cmd], { encoding: "utf8" });
  return line.trim().split(" ")[1]!;
}
