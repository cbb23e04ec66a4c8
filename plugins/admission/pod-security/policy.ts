/**
 * @module The Pod Security Standards checks (upstream
 * `k8s.io/pod-security-admission/policy`), for the latest policy version:
 * each check has upstream's ID, level, forbidden reason and detail text.
 * Baseline checks run first, then restricted ones, each group sorted by ID
 * (upstream's order, so messages read the same); a restricted check may
 * replace a baseline one (`capabilities_restricted` replaces
 * `capabilities_baseline`, `seccompProfile_restricted` replaces
 * `seccompProfile_baseline`).
 */
import { asArr, asObj, type Container, type Json, type PodSpec } from "../common.ts";

export type Level = "privileged" | "baseline" | "restricted";
export const LEVELS: readonly Level[] = ["privileged", "baseline", "restricted"];

export interface CheckResult {
  reason: string;
  detail: string;
}

interface Check {
  id: string;
  level: "baseline" | "restricted";
  overrides?: string[];
  check(meta: Json, spec: PodSpec): CheckResult | undefined;
}

const q = (s: string) => JSON.stringify(s);
const joinQuote = (xs: readonly string[]) => xs.map(q).join(", ");
const pluralize = (one: string, many: string, n: number) => (n === 1 ? one : many);
const sortedSet = (xs: Iterable<string>) => [...new Set(xs)].sort();

function visit(spec: PodSpec, f: (c: Container) => void): void {
  for (const list of [spec.initContainers, spec.containers, spec.ephemeralContainers]) for (const c of list ?? []) f(c);
}
const sc = (c: Container): Json | undefined => asObj(c.securityContext);
const podSc = (spec: PodSpec): Json | undefined => asObj(spec.securityContext);

const BASELINE_CAPABILITIES = new Set(["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]);
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_wmem",
]);
const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);
const RESTRICTED_VOLUME_OK = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret", "image"];
const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";

/** "pod and containers "a", "b"" style subjects (upstream's badSetters joined with " and "). */
function setters(pod: boolean, containers: string[]): string {
  const out: string[] = [];
  if (pod) out.push("pod");
  if (containers.length > 0) out.push(`${pluralize("container", "containers", containers.length)} ${joinQuote(containers)}`);
  return out.join(" and ");
}

const CHECKS: Check[] = [
  {
    id: "appArmorProfile",
    level: "baseline",
    check(meta, spec) {
      const bad = new Set<string>();
      const okType = (t: unknown) => t === undefined || t === "RuntimeDefault" || t === "Localhost";
      const podType = asObj(podSc(spec)?.appArmorProfile)?.type;
      if (!okType(podType)) bad.add(String(podType));
      visit(spec, (c) => {
        const t = asObj(sc(c)?.appArmorProfile)?.type;
        if (!okType(t)) bad.add(String(t));
      });
      for (const [k, v] of Object.entries((asObj(meta.annotations) ?? {}) as Record<string, string>)) {
        if (k.startsWith(APPARMOR_ANNOTATION) && v !== "runtime/default" && !v.startsWith("localhost/")) bad.add(`${k}=${v}`);
      }
      if (bad.size === 0) return;
      return { reason: pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", bad.size), detail: joinQuote(sortedSet(bad)) };
    },
  },
  {
    id: "capabilities_baseline",
    level: "baseline",
    check(_m, spec) {
      const bad: string[] = [];
      const caps = new Set<string>();
      visit(spec, (c) => {
        let found = false;
        for (const cap of asArr(asObj(sc(c)?.capabilities)?.add)) {
          if (!BASELINE_CAPABILITIES.has(String(cap))) {
            found = true;
            caps.add(String(cap));
          }
        }
        if (found) bad.push(c.name);
      });
      if (bad.length === 0) return;
      return {
        reason: "non-default capabilities",
        detail: `${pluralize("container", "containers", bad.length)} ${joinQuote(bad)} must not include ${joinQuote(sortedSet(caps))} in securityContext.capabilities.add`,
      };
    },
  },
  {
    id: "hostNamespaces",
    level: "baseline",
    check(_m, spec) {
      const ns = [spec.hostNetwork && "hostNetwork=true", spec.hostPID && "hostPID=true", spec.hostIPC && "hostIPC=true"].filter(Boolean) as string[];
      return ns.length > 0 ? { reason: "host namespaces", detail: ns.join(", ") } : undefined;
    },
  },
  {
    id: "hostPathVolumes",
    level: "baseline",
    check(_m, spec) {
      const bad = (spec.volumes ?? []).filter((v) => v.hostPath !== undefined).map((v) => v.name);
      return bad.length > 0 ? { reason: "hostPath volumes", detail: `${pluralize("volume", "volumes", bad.length)} ${joinQuote(bad)}` } : undefined;
    },
  },
  {
    id: "hostPorts",
    level: "baseline",
    check(_m, spec) {
      const bad: string[] = [];
      const ports = new Set<string>();
      visit(spec, (c) => {
        let found = false;
        for (const p of c.ports ?? []) {
          if (p.hostPort) {
            found = true;
            ports.add(String(p.hostPort));
          }
        }
        if (found) bad.push(c.name);
      });
      if (bad.length === 0) return;
      const list = sortedSet(ports);
      return {
        reason: "hostPort",
        detail: `${pluralize("container", "containers", bad.length)} ${joinQuote(bad)} ${pluralize("uses", "use", bad.length)} ${pluralize("hostPort", "hostPorts", list.length)} ${list.join(", ")}`,
      };
    },
  },
  {
    id: "privileged",
    level: "baseline",
    check(_m, spec) {
      const bad: string[] = [];
      visit(spec, (c) => {
        if (sc(c)?.privileged === true) bad.push(c.name);
      });
      return bad.length > 0 ? { reason: "privileged", detail: `${pluralize("container", "containers", bad.length)} ${joinQuote(bad)} must not set securityContext.privileged=true` } : undefined;
    },
  },
  {
    id: "procMount",
    level: "baseline",
    check(_m, spec) {
      const bad: string[] = [];
      const values = new Set<string>();
      visit(spec, (c) => {
        const pm = sc(c)?.procMount;
        if (pm !== undefined && pm !== "Default") {
          bad.push(c.name);
          values.add(String(pm));
        }
      });
      if (bad.length === 0) return;
      return { reason: "procMount", detail: `${pluralize("container", "containers", bad.length)} ${joinQuote(bad)} must not set securityContext.procMount to ${joinQuote(sortedSet(values))}` };
    },
  },
  {
    id: "seLinuxOptions",
    level: "baseline",
    check(_m, spec) {
      const types = new Set<string>();
      let user = false;
      let role = false;
      const bad = (o: unknown): boolean => {
        const s = asObj(o);
        if (!s) return false;
        let b = false;
        if (!SELINUX_TYPES.has(String(s.type ?? ""))) (types.add(String(s.type)), (b = true));
        if (s.user) (user = true), (b = true);
        if (s.role) (role = true), (b = true);
        return b;
      };
      const pod = bad(podSc(spec)?.seLinuxOptions);
      const containers: string[] = [];
      visit(spec, (c) => {
        if (bad(sc(c)?.seLinuxOptions)) containers.push(c.name);
      });
      if (!pod && containers.length === 0) return;
      const what: string[] = [];
      if (types.size > 0) what.push(`${pluralize("type", "types", types.size)} ${joinQuote(sortedSet(types))}`);
      if (user) what.push("user may not be set");
      if (role) what.push("role may not be set");
      return { reason: "seLinuxOptions", detail: `${setters(pod, containers)} set forbidden securityContext.seLinuxOptions: ${what.join("; ")}` };
    },
  },
  {
    id: "seccompProfile_baseline",
    level: "baseline",
    check(_m, spec) {
      const pod = asObj(podSc(spec)?.seccompProfile)?.type === "Unconfined";
      const containers: string[] = [];
      visit(spec, (c) => {
        if (asObj(sc(c)?.seccompProfile)?.type === "Unconfined") containers.push(c.name);
      });
      if (!pod && containers.length === 0) return;
      return { reason: "seccompProfile", detail: `${setters(pod, containers)} must not set securityContext.seccompProfile.type to "Unconfined"` };
    },
  },
  {
    id: "sysctls",
    level: "baseline",
    check(_m, spec) {
      const bad = asArr(podSc(spec)?.sysctls)
        .map((s) => String(asObj(s)?.name ?? ""))
        .filter((n) => !SAFE_SYSCTLS.has(n));
      return bad.length > 0 ? { reason: "forbidden sysctls", detail: bad.join(", ") } : undefined;
    },
  },
  {
    id: "windowsHostProcess",
    level: "baseline",
    check(_m, spec) {
      const pod = asObj(podSc(spec)?.windowsOptions)?.hostProcess === true;
      const containers: string[] = [];
      visit(spec, (c) => {
        if (asObj(sc(c)?.windowsOptions)?.hostProcess === true) containers.push(c.name);
      });
      if (!pod && containers.length === 0) return;
      return { reason: "hostProcess", detail: `${setters(pod, containers)} must not set securityContext.windowsOptions.hostProcess=true` };
    },
  },
  // ---- restricted ----
  {
    id: "allowPrivilegeEscalation",
    level: "restricted",
    check(_m, spec) {
      const bad: string[] = [];
      visit(spec, (c) => {
        if (sc(c)?.allowPrivilegeEscalation !== false) bad.push(c.name);
      });
      if (bad.length === 0) return;
      return { reason: "allowPrivilegeEscalation != false", detail: `${pluralize("container", "containers", bad.length)} ${joinQuote(bad)} must set securityContext.allowPrivilegeEscalation=false` };
    },
  },
  {
    id: "capabilities_restricted",
    level: "restricted",
    overrides: ["capabilities_baseline"],
    check(_m, spec) {
      const missingDrop: string[] = [];
      const adding: string[] = [];
      const caps = new Set<string>();
      visit(spec, (c) => {
        const cap = asObj(sc(c)?.capabilities);
        if (!cap) return void missingDrop.push(c.name);
        if (!asArr(cap.drop).includes("ALL")) missingDrop.push(c.name);
        let found = false;
        for (const a of asArr(cap.add)) {
          if (a !== "NET_BIND_SERVICE") {
            found = true;
            caps.add(String(a));
          }
        }
        if (found) adding.push(c.name);
      });
      const details: string[] = [];
      if (missingDrop.length > 0) details.push(`${pluralize("container", "containers", missingDrop.length)} ${joinQuote(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
      if (adding.length > 0) details.push(`${pluralize("container", "containers", adding.length)} ${joinQuote(adding)} must not include ${joinQuote(sortedSet(caps))} in securityContext.capabilities.add`);
      return details.length > 0 ? { reason: "unrestricted capabilities", detail: details.join("; ") } : undefined;
    },
  },
  {
    id: "restrictedVolumes",
    level: "restricted",
    check(_m, spec) {
      const bad: string[] = [];
      const types = new Set<string>();
      for (const v of spec.volumes ?? []) {
        const kinds = Object.keys(v).filter((k) => k !== "name");
        if (kinds.some((k) => RESTRICTED_VOLUME_OK.includes(k))) continue;
        bad.push(v.name);
        for (const k of kinds) types.add(k);
      }
      if (bad.length === 0) return;
      const t = sortedSet(types);
      return {
        reason: "restricted volume types",
        detail: `${pluralize("volume", "volumes", bad.length)} ${joinQuote(bad)} ${pluralize("uses", "use", bad.length)} ${pluralize("restricted volume type", "restricted volume types", t.length)} ${joinQuote(t)}`,
      };
    },
  },
  {
    id: "runAsNonRoot",
    level: "restricted",
    check(_m, spec) {
      if (spec.hostUsers === false) return;
      const podValue = podSc(spec)?.runAsNonRoot;
      const podBad = podValue === false;
      const explicit: string[] = [];
      const implicit: string[] = [];
      visit(spec, (c) => {
        const v = sc(c)?.runAsNonRoot;
        if (v !== undefined) {
          if (v === false) explicit.push(c.name);
        } else if (podValue !== true) implicit.push(c.name);
      });
      if (podBad || explicit.length > 0) return { reason: "runAsNonRoot != true", detail: `${setters(podBad, explicit)} must not set securityContext.runAsNonRoot=false` };
      if (implicit.length > 0) {
        return { reason: "runAsNonRoot != true", detail: `pod or ${pluralize("container", "containers", implicit.length)} ${joinQuote(implicit)} must set securityContext.runAsNonRoot=true` };
      }
      return undefined;
    },
  },
  {
    id: "runAsUser",
    level: "restricted",
    check(_m, spec) {
      if (spec.hostUsers === false) return;
      const pod = podSc(spec)?.runAsUser === 0;
      const containers: string[] = [];
      visit(spec, (c) => {
        if (sc(c)?.runAsUser === 0) containers.push(c.name);
      });
      if (!pod && containers.length === 0) return;
      return { reason: "runAsUser=0", detail: `${setters(pod, containers)} must not set runAsUser=0` };
    },
  },
  {
    id: "seccompProfile_restricted",
    level: "restricted",
    overrides: ["seccompProfile_baseline"],
    check(_m, spec) {
      const valid = (t: unknown) => t === "RuntimeDefault" || t === "Localhost";
      const badValues = new Set<string>();
      const podProfile = asObj(podSc(spec)?.seccompProfile);
      const podBad = podProfile !== undefined && !valid(podProfile.type);
      if (podBad) badValues.add(String(podProfile!.type));
      const podSet = podProfile !== undefined && !podBad;
      const explicit: string[] = [];
      const implicit: string[] = [];
      visit(spec, (c) => {
        const p = asObj(sc(c)?.seccompProfile);
        if (p) {
          if (!valid(p.type)) {
            explicit.push(c.name);
            badValues.add(String(p.type));
          }
        } else if (!podSet) implicit.push(c.name);
      });
      if (podBad || explicit.length > 0) {
        return { reason: "seccompProfile", detail: `${setters(podBad, explicit)} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(badValues))}` };
      }
      if (implicit.length > 0) {
        return {
          reason: "seccompProfile",
          detail: `pod or ${pluralize("container", "containers", implicit.length)} ${joinQuote(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
        };
      }
      return undefined;
    },
  },
];

const byId = (a: Check, b: Check) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const BASELINE = CHECKS.filter((c) => c.level === "baseline").sort(byId);
const OVERRIDDEN = new Set(CHECKS.flatMap((c) => c.overrides ?? []));
const RESTRICTED = [...BASELINE.filter((c) => !OVERRIDDEN.has(c.id)), ...CHECKS.filter((c) => c.level === "restricted").sort(byId)];

/** The failed checks of a pod (its metadata and spec) at `level`, in upstream's order. */
export function evaluatePod(level: Level, meta: Json, spec: PodSpec): CheckResult[] {
  if (level === "privileged") return [];
  const checks = level === "baseline" ? BASELINE : RESTRICTED;
  const out: CheckResult[] = [];
  for (const c of checks) {
    const r = c.check(meta, spec);
    if (r) out.push(r);
  }
  return out;
}

/** `reason (detail), reason (detail)`: how upstream joins failed checks in its messages. */
export function formatResults(results: readonly CheckResult[]): string {
  return results.map((r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason)).join(", ");
}
