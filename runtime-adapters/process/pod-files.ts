/**
 * @module The per-pod `/etc/resolv.conf` and `/etc/hosts` of the process
 * runtime. Pods share the host's filesystem, so each sandbox gets its own
 * copies under the state dir (`sandboxes/<id>/resolv.conf`, `…/hosts`),
 * which the launch script bind-mounts over the host's files inside each
 * container's private mount namespace (root only; see README.md "Pod DNS
 * and /etc/hosts"). Exec enters that same mount namespace, so probes and
 * `kubectl exec` see them too.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PodSandboxConfig } from "../../core/runtime/adapter.ts";

/** The sandbox's files, as recorded: absent = the host's file stays visible. */
export interface PodFiles {
  resolvConf?: string;
  hosts?: string;
}

/** A resolv.conf as containerd writes one from CRI's DNSConfig. */
export function resolvConfText(dns: NonNullable<PodSandboxConfig["dns"]>): string {
  const lines: string[] = [];
  if (dns.searches.length > 0) lines.push(`search ${dns.searches.join(" ")}`);
  for (const s of dns.servers) lines.push(`nameserver ${s}`);
  if (dns.options.length > 0) lines.push(`options ${dns.options.join(" ")}`);
  return lines.length > 0 ? lines.join("\n") + "\n" : "";
}

/** The kubelet's managed hosts file: localhost entries and the pod's own name at its IP. */
export function hostsText(ip: string, hostname: string): string {
  return [
    "# Kubernetes-managed hosts file (skiff process runtime).",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
    `${ip}\t${hostname}`,
    "",
  ].join("\n");
}

/**
 * Writes the files a sandbox needs into `dir`: resolv.conf when the config
 * has `dns`, hosts when the pod has its own IP (a hostNetwork pod keeps the
 * host's, as with the kubelet). Returns what it wrote.
 */
export function writePodFiles(dir: string, config: Pick<PodSandboxConfig, "dns" | "hostname" | "name">, ip: string | undefined): PodFiles {
  const out: PodFiles = {};
  if (!config.dns && !ip) return out;
  mkdirSync(dir, { recursive: true });
  if (config.dns) {
    out.resolvConf = join(dir, "resolv.conf");
    writeFileSync(out.resolvConf, resolvConfText(config.dns));
  }
  if (ip) {
    out.hosts = join(dir, "hosts");
    writeFileSync(out.hosts, hostsText(ip, config.hostname || config.name));
  }
  return out;
}

/**
 * The bind mounts that put a sandbox's files in place for one container,
 * leaving out a path the container mounts a volume at itself (as the kubelet
 * leaves /etc/hosts alone when a volume is mounted there).
 */
export function podFileMounts(files: PodFiles | undefined, volumes: { containerPath: string }[]): { containerPath: string; hostPath: string }[] {
  const out: { containerPath: string; hostPath: string }[] = [];
  const taken = new Set(volumes.map((v) => v.containerPath.replace(/\/+$/, "")));
  if (files?.resolvConf && !taken.has("/etc/resolv.conf")) out.push({ containerPath: "/etc/resolv.conf", hostPath: files.resolvConf });
  if (files?.hosts && !taken.has("/etc/hosts")) out.push({ containerPath: "/etc/hosts", hostPath: files.hosts });
  return out;
}
