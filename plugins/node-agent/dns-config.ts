/**
 * @module A pod's DNS settings (the sandbox's resolv.conf), as the kubelet
 * computes them from `dnsPolicy` and `dnsConfig`:
 *
 * - `ClusterFirst` (the default): the cluster DNS as nameserver, searches
 *   `<ns>.svc.<domain> svc.<domain> <domain>` then the host's, `ndots:5`.
 *   A hostNetwork pod gets the host's settings instead, unless its policy is
 *   `ClusterFirstWithHostNet`. With no cluster DNS known, the host's
 *   settings (the kubelet does the same, with a warning).
 * - `Default`: the host's resolv.conf.
 * - `None`: only `dnsConfig`.
 * - `dnsConfig` is merged in last: nameservers and searches appended
 *   (duplicates dropped), options replaced by name.
 *
 * Where the cluster DNS address comes from: the agent's `clusterDNS` setting
 * (like the kubelet's), otherwise the `kube-dns` Service in kube-system
 * (published by the dns plugin), read through the client and cached — so
 * the all-in-one and a separate agent work the same way.
 */
import { readFileSync } from "node:fs";
import type { Client } from "../../core/client/types.ts";

export interface DnsSettings {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface PodDnsInput {
  namespace: string;
  hostNetwork?: boolean;
  dnsPolicy?: string;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
}

export interface ClusterDnsInfo {
  /** Cluster DNS server addresses; empty = none known. */
  servers: string[];
  /** The cluster domain (`cluster.local`). */
  domain: string;
}

/** The kubelet's limits (validation allows at most 3 nameservers and 32 searches). */
const MAX_SERVERS = 3;
const MAX_SEARCHES = 32;

/** Parses a resolv.conf (`nameserver`, `search`/`domain`, `options`). */
export function parseResolvConf(text: string): DnsSettings {
  const out: DnsSettings = { servers: [], searches: [], options: [] };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === "nameserver" && rest[0]) out.servers.push(rest[0]);
    else if (key === "search" || key === "domain") out.searches = rest.filter(Boolean);
    else if (key === "options") out.options.push(...rest.filter(Boolean));
  }
  return out;
}

function uniq(list: string[]): string[] {
  return [...new Set(list)];
}

function mergeOptions(base: string[], extra: { name: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const o of base) byName.set(o.split(":")[0]!, o);
  for (const o of extra) byName.set(o.name, o.value !== undefined && o.value !== "" ? `${o.name}:${o.value}` : o.name);
  return [...byName.values()];
}

/** The DNS settings for a pod's sandbox (empty lists for `None` without dnsConfig, as asked). */
export function podDnsConfig(pod: PodDnsInput, cluster: ClusterDnsInfo, host: DnsSettings): DnsSettings {
  const policy = pod.dnsPolicy ?? "ClusterFirst";
  let base: DnsSettings;
  const clusterFirst = policy === "ClusterFirstWithHostNet" || (policy === "ClusterFirst" && !pod.hostNetwork);
  if (policy === "None") base = { servers: [], searches: [], options: [] };
  else if (clusterFirst && cluster.servers.length > 0) {
    const d = cluster.domain;
    base = {
      servers: [...cluster.servers],
      searches: [`${pod.namespace}.svc.${d}`, `svc.${d}`, d, ...host.searches],
      options: ["ndots:5"],
    };
  } else base = { servers: [...host.servers], searches: [...host.searches], options: [...host.options] };
  const extra = pod.dnsConfig;
  return {
    servers: uniq([...base.servers, ...(extra?.nameservers ?? [])]).slice(0, MAX_SERVERS),
    searches: uniq([...base.searches, ...(extra?.searches ?? [])]).slice(0, MAX_SEARCHES),
    options: mergeOptions(base.options, extra?.options ?? []),
  };
}

/** Where an agent gets the cluster DNS: configured addresses, or the kube-dns Service. */
export class ClusterDnsSource {
  #cached?: { at: number; servers: string[] };
  #pending?: Promise<void>;

  constructor(
    private readonly opts: {
      client: Client;
      /** The agent's `clusterDNS` setting; non-empty wins over the Service. */
      configured: string[];
      domain: string;
      service?: { namespace: string; name: string };
      /** How long a lookup is reused. */
      ttlMs?: number;
      resolvConf?: string;
    },
  ) {}

  /** The host's resolv.conf, read at most once a minute. */
  #host?: { at: number; value: DnsSettings };
  host(): DnsSettings {
    const now = Date.now();
    if (!this.#host || now - this.#host.at > 60_000) {
      let value: DnsSettings;
      try {
        value = parseResolvConf(readFileSync(this.opts.resolvConf ?? "/etc/resolv.conf", "utf8"));
      } catch {
        value = { servers: [], searches: [], options: [] };
      }
      this.#host = { at: now, value };
    }
    return this.#host.value;
  }

  /** The cluster DNS as last looked up; starts a refresh when stale. Never throws. */
  cluster(): ClusterDnsInfo {
    if (this.opts.configured.length > 0) return { servers: this.opts.configured, domain: this.opts.domain };
    const ttl = this.opts.ttlMs ?? 30_000;
    if (!this.#cached || Date.now() - this.#cached.at > ttl) void this.refresh();
    return { servers: this.#cached?.servers ?? [], domain: this.opts.domain };
  }

  /** Reads the kube-dns Service now (deduplicated while in flight). */
  refresh(): Promise<void> {
    if (this.opts.configured.length > 0) return Promise.resolve();
    const svc = this.opts.service ?? { namespace: "kube-system", name: "kube-dns" };
    this.#pending ??= this.opts.client
      .get<{ metadata: { name?: string }; spec?: { clusterIP?: string; clusterIPs?: string[] } }>({ group: "", version: "v1", resource: "services" }, svc.name, {
        namespace: svc.namespace,
      })
      .then(
        (s) => {
          const ips = (s.spec?.clusterIPs?.length ? s.spec.clusterIPs : [s.spec?.clusterIP]).filter((ip): ip is string => !!ip && ip !== "None");
          this.#cached = { at: Date.now(), servers: ips };
        },
        () => {
          // Not there (yet): no cluster DNS; ask again after a short while.
          this.#cached = { at: Date.now() - (this.opts.ttlMs ?? 30_000) + 2_000, servers: this.#cached?.servers ?? [] };
        },
      )
      .finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  /** The settings for one pod. */
  forPod(pod: PodDnsInput): DnsSettings {
    return podDnsConfig(pod, this.cluster(), this.host());
  }
}

const sources = new WeakMap<object, ClusterDnsSource>();

/**
 * Ties a source to the agent's client, so pod workers (which get the client
 * among their dependencies) find it without another constructor argument.
 */
export function setClusterDnsSource(client: Client, source: ClusterDnsSource): void {
  sources.set(client, source);
}

export function clusterDnsSourceFor(client: Client): ClusterDnsSource | undefined {
  return sources.get(client);
}

/**
 * The `dns` part of a PodSandboxConfig: from the agent's source when it has
 * one, otherwise only what the pod's dnsConfig says.
 */
export function sandboxDns(pod: { metadata: { namespace?: string }; spec: Omit<PodDnsInput, "namespace"> }, client: Client): { dns?: DnsSettings } {
  const source = sources.get(client);
  if (source) return { dns: source.forPod({ ...pod.spec, namespace: pod.metadata.namespace ?? "default" }) };
  const c = pod.spec.dnsConfig;
  return c ? { dns: podDnsConfig({ namespace: "", dnsPolicy: "None", dnsConfig: c }, { servers: [], domain: "" }, { servers: [], searches: [], options: [] }) } : {};
}
