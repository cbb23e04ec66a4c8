/**
 * @module Test helpers for the process runtime (not exported from index.ts):
 * a last-resort sweep of everything a ProcessRuntime with these names may
 * have left behind — processes, network namespaces, veths, the bridge,
 * cgroups — found by the unique prefixes a test chose.
 */
import { readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { ip } from "./network.ts";

export interface LeftoverNames {
  stateDir: string;
  bridge: string;
  netnsPrefix: string;
  vethPrefix: string;
  cgroupParent?: string;
}

/**
 * Names for a test's own process runtime, unique per run so that
 * `removeLeftovers` finds exactly its leftovers: the bridge, netns, veth and
 * cgroup names start with `prefix` (2–3 letters, one per suite) and a random
 * tag, and the pod subnet is a /24 in `10.<second>.0.0/16` (one `second`
 * per suite). `octet` is the /24's third octet, for suites that derive more
 * addresses from it.
 */
export function testRuntimeNames(prefix: string, second: number): { tag: string; octet: number; names: Omit<LeftoverNames, "stateDir"> & { subnet: string } } {
  const tag = Math.random().toString(16).slice(2, 6);
  const octet = Number.parseInt(tag, 16) % 250;
  return {
    tag,
    octet,
    names: {
      bridge: `${prefix}${tag}`,
      subnet: `10.${second}.${octet}.0/24`,
      netnsPrefix: `${prefix}-${tag}-`,
      vethPrefix: `${prefix.slice(-1)}${tag}`,
      cgroupParent: `skiff-e2e-${prefix}-${tag}`,
    },
  };
}

export async function removeLeftovers(n: LeftoverNames): Promise<void> {
  // Processes first: containers (by recorded pid and process group) and their shims.
  try {
    for (const d of readdirSync(join(n.stateDir, "containers"))) {
      for (const f of ["pid"]) {
        try {
          const pid = Number(readFileSync(join(n.stateDir, "containers", d, f), "utf8").split(" ")[0]);
          if (pid > 1) {
            try {
              process.kill(-pid, "SIGKILL");
            } catch {
              /* gone */
            }
          }
        } catch {
          /* no pid */
        }
      }
      try {
        const rec = JSON.parse(readFileSync(join(n.stateDir, "containers", d, "container.json"), "utf8")) as { shimPid?: number };
        if (rec.shimPid && rec.shimPid > 1) process.kill(rec.shimPid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  } catch {
    /* no state */
  }
  if (process.getuid?.() !== 0) return;
  const namespaces = await ip(["netns", "list"]).catch(() => "");
  for (const line of namespaces.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    if (name.startsWith(n.netnsPrefix)) await ip(["netns", "del", name]).catch(() => undefined);
  }
  const links = await ip(["-o", "link", "show"]).catch(() => "");
  for (const m of links.matchAll(/^\d+: ([^:@]+)/gm)) {
    const name = m[1]!;
    if (name.startsWith(n.vethPrefix) || name === n.bridge) await ip(["link", "del", name]).catch(() => undefined);
  }
  if (n.cgroupParent) {
    for (const root of ["/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct"]) {
      const parent = join(root, n.cgroupParent);
      try {
        for (const d of readdirSync(parent, { withFileTypes: true })) if (d.isDirectory()) rmdirSync(join(parent, d.name));
        rmdirSync(parent);
      } catch {
        /* absent or busy */
      }
    }
  }
}
