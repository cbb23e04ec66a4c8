/**
 * @module Test helpers for the docker adapter (not exported from index.ts):
 * a private dockerd per test run through `scripts/start-dockerd.sh` (its own
 * containerd, sockets, data root and cgroup parent), network names, bridge
 * names and a subnet unique to the run, and images built offline by the
 * project's `scripts/mkimage.sh`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";

const SCRIPTS = join(import.meta.dirname, "scripts");
export const MKIMAGE = join(import.meta.dirname, "..", "..", "scripts", "mkimage.sh");

/** Why docker tests cannot run here, or undefined when they can. */
export function dockerdMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "root (dockerd needs it)";
  for (const bin of ["dockerd", "containerd", "runc", "curl"]) {
    if (spawnSync("sh", ["-c", `command -v ${bin}`]).status !== 0) return `${bin} (apt-get install --no-install-recommends docker.io curl)`;
  }
  const bb = spawnSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).stdout.trim();
  if (!bb || !/not a dynamic|statically/.test(spawnSync("sh", ["-c", `ldd ${bb} 2>&1; file ${bb} 2>/dev/null`], { encoding: "utf8" }).stdout)) {
    return "a static busybox (apt-get install busybox-static)";
  }
  return undefined;
}

export interface TestDockerd {
  dir: string;
  socket: string;
  /** Unique to this run: adapter instance label, network, bridge and subnet. */
  instance: string;
  network: string;
  bridge: string;
  subnet: string;
  /** Stops dockerd and removes everything it left behind. Idempotent. */
  stop(): void;
}

/** A /24 in 10.220–229.x.0 that no route on this machine uses yet. */
function freeSubnet(): { subnet: string; tag: string } {
  const routes = spawnSync("ip", ["-4", "route"], { encoding: "utf8" }).stdout ?? "";
  for (let i = 0; i < 100; i++) {
    const n = Math.floor(Math.random() * 0xffff);
    const prefix = `10.${220 + (n >> 8) % 10}.${n & 0xff}.`;
    if (!routes.includes(prefix)) return { subnet: `${prefix}0/24`, tag: n.toString(16).padStart(4, "0") };
  }
  throw new Error("no free 10.220-229.x.0/24 subnet");
}

/** Starts a private dockerd under a fresh short directory (unix socket paths are limited). */
export function startDockerd(label = "skd-"): TestDockerd {
  const dir = mkdtempSync(join("/tmp", label));
  const { subnet, tag } = freeSubnet();
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    spawnSync(join(SCRIPTS, "stop-dockerd.sh"), [join(dir, "d")], { stdio: "ignore", timeout: 120_000 });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync(join(SCRIPTS, "start-dockerd.sh"), [join(dir, "d")], { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  } catch (e) {
    const err = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    stop();
    throw new Error(`start-dockerd.sh failed: ${err.trim()}`);
  }
  return { dir, socket: join(dir, "d", "docker.sock"), instance: `t${tag}`, network: `skiff-t${tag}`, bridge: `skdk${tag}`, subnet, stop };
}

/** Builds an image archive with `scripts/mkimage.sh`; returns its path. */
export function mkimage(out: string, ref: string, cmd: string[] = []): string {
  if (!existsSync(out)) execFileSync(MKIMAGE, [out, ref, ...cmd], { stdio: ["ignore", "pipe", "pipe"] });
  return out;
}
