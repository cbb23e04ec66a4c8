/**
 * @module Resource limits and usage for process containers through cgroups
 * (root only): one cgroup per container named `<parent>/<container id>`, on
 * the unified hierarchy (cgroup v2: memory.max, cpu.max, cpu.stat,
 * memory.current) or on the v1 `memory`, `cpu` and `cpuacct` hierarchies
 * (memory.limit_in_bytes, cpu.cfs_quota_us, cpuacct.usage). The container's
 * first process joins them before it execs (the launch script writes its pid
 * into each `cgroup.procs`).
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = "/sys/fs/cgroup";
const CFS_PERIOD_US = 100_000;

export type CgroupMode = "v2" | "v1" | "none";

export function detectCgroups(): CgroupMode {
  if (process.getuid?.() !== 0) return "none";
  try {
    if (existsSync(join(ROOT, "cgroup.controllers"))) {
      const ctl = readFileSync(join(ROOT, "cgroup.controllers"), "utf8");
      return ctl.includes("memory") && ctl.includes("cpu") ? "v2" : "none";
    }
    if (existsSync(join(ROOT, "memory", "cgroup.procs")) && existsSync(join(ROOT, "cpu", "cgroup.procs"))) return "v1";
  } catch {
    /* unreadable: no cgroups */
  }
  return "none";
}

export interface CgroupLimits {
  cpuMillis?: number;
  memoryBytes?: number;
  cpuRequestMillis?: number;
}

export class Cgroups {
  constructor(
    readonly mode: CgroupMode,
    readonly parent: string,
  ) {}

  get available(): boolean {
    return this.mode !== "none";
  }

  /** The directories a container's cgroup lives in (one per v1 hierarchy). */
  dirs(id: string): string[] {
    if (this.mode === "v2") return [join(ROOT, this.parent, id)];
    if (this.mode === "v1") {
      const out = [join(ROOT, "memory", this.parent, id), join(ROOT, "cpu", this.parent, id)];
      if (existsSync(join(ROOT, "cpuacct", "cgroup.procs")) && !sameHierarchy("cpu", "cpuacct")) out.push(join(ROOT, "cpuacct", this.parent, id));
      return out;
    }
    return [];
  }

  /** Creates the container's cgroups with its limits; returns the `cgroup.procs` files to join. */
  create(id: string, limits: CgroupLimits): string[] {
    if (this.mode === "none") return [];
    if (this.mode === "v2") this.#enableV2Controllers();
    const procs: string[] = [];
    for (const dir of this.dirs(id)) {
      mkdirSync(dir, { recursive: true });
      procs.push(join(dir, "cgroup.procs"));
    }
    const cpuQuota = limits.cpuMillis !== undefined ? Math.max(1000, Math.round((limits.cpuMillis * CFS_PERIOD_US) / 1000)) : undefined;
    // cpu.shares / cpu.weight from the request, as the kubelet does (1024 shares per CPU, min 2).
    const shares = limits.cpuRequestMillis !== undefined ? Math.max(2, Math.round((limits.cpuRequestMillis * 1024) / 1000)) : undefined;
    if (this.mode === "v2") {
      const dir = this.dirs(id)[0]!;
      if (limits.memoryBytes !== undefined) tryWrite(join(dir, "memory.max"), String(limits.memoryBytes));
      if (cpuQuota !== undefined) tryWrite(join(dir, "cpu.max"), `${cpuQuota} ${CFS_PERIOD_US}`);
      if (shares !== undefined) tryWrite(join(dir, "cpu.weight"), String(Math.min(10000, Math.max(1, 1 + Math.floor(((shares - 2) * 9999) / 262142)))));
    } else {
      const [mem, cpu] = this.dirs(id) as [string, string];
      if (limits.memoryBytes !== undefined) tryWrite(join(mem, "memory.limit_in_bytes"), String(limits.memoryBytes));
      if (cpuQuota !== undefined) {
        tryWrite(join(cpu, "cpu.cfs_period_us"), String(CFS_PERIOD_US));
        tryWrite(join(cpu, "cpu.cfs_quota_us"), String(cpuQuota));
      }
      if (shares !== undefined) tryWrite(join(cpu, "cpu.shares"), String(shares));
    }
    return procs;
  }

  /** Cumulative CPU nanoseconds and memory working set, or null when the cgroup is gone. */
  usage(id: string): { cpuNanos: number; memoryWorkingSet: number } | null {
    try {
      if (this.mode === "v2") {
        const dir = this.dirs(id)[0]!;
        const cpu = Number(/usage_usec (\d+)/.exec(readFileSync(join(dir, "cpu.stat"), "utf8"))?.[1] ?? 0) * 1000;
        const current = Number(readFileSync(join(dir, "memory.current"), "utf8").trim());
        const inactive = Number(/inactive_file (\d+)/.exec(readFileSync(join(dir, "memory.stat"), "utf8"))?.[1] ?? 0);
        return { cpuNanos: cpu, memoryWorkingSet: Math.max(0, current - inactive) };
      }
      if (this.mode === "v1") {
        const dirs = this.dirs(id);
        const acct = dirs[2] ?? dirs[1]!;
        const cpu = Number(readFileSync(join(acct, "cpuacct.usage"), "utf8").trim());
        const usage = Number(readFileSync(join(dirs[0]!, "memory.usage_in_bytes"), "utf8").trim());
        const inactive = Number(/total_inactive_file (\d+)/.exec(readFileSync(join(dirs[0]!, "memory.stat"), "utf8"))?.[1] ?? 0);
        return { cpuNanos: cpu, memoryWorkingSet: Math.max(0, usage - inactive) };
      }
    } catch {
      /* gone */
    }
    return null;
  }

  /** Whether the kernel's OOM killer killed a process in this cgroup. */
  oomKilled(id: string): boolean {
    try {
      if (this.mode === "v2") return Number(/oom_kill (\d+)/.exec(readFileSync(join(this.dirs(id)[0]!, "memory.events"), "utf8"))?.[1] ?? 0) > 0;
      if (this.mode === "v1") return Number(/oom_kill (\d+)/.exec(readFileSync(join(this.dirs(id)[0]!, "memory.oom_control"), "utf8"))?.[1] ?? 0) > 0;
    } catch {
      /* gone */
    }
    return false;
  }

  /** Removes the container's (empty) cgroups. Idempotent. */
  remove(id: string): void {
    for (const dir of this.dirs(id)) {
      try {
        rmdirSync(dir);
      } catch {
        /* absent, or still has processes: the kernel refuses, nothing to do */
      }
    }
  }

  /** Removes the parent cgroup when it is empty. */
  removeParent(): void {
    const parents = this.mode === "v2" ? [join(ROOT, this.parent)] : this.mode === "v1" ? ["memory", "cpu", "cpuacct"].map((h) => join(ROOT, h, this.parent)) : [];
    for (const dir of parents) {
      try {
        rmdirSync(dir);
      } catch {
        /* absent or still in use */
      }
    }
  }

  #enableV2Controllers(): void {
    const parent = join(ROOT, this.parent);
    mkdirSync(parent, { recursive: true });
    tryWrite(join(ROOT, "cgroup.subtree_control"), "+cpu +memory");
    tryWrite(join(parent, "cgroup.subtree_control"), "+cpu +memory");
  }
}

function tryWrite(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch {
    /* a limit the kernel refuses is not fatal: the container runs without it */
  }
}

function sameHierarchy(a: string, b: string): boolean {
  try {
    return readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .some((l) => l.includes(`/sys/fs/cgroup/${a}`) && l.includes(b) && l.includes(`${a},${b}`));
  } catch {
    return false;
  }
}
