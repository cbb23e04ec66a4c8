/**
 * @module The nftables ruleset for a set of service ports: a pure function
 * from `ServicePort[]` (model.ts) to the text `nft -f` applies atomically
 * (one netlink transaction), modelled on kube-proxy's nftables mode.
 *
 * One table (`ip skiff-proxy` by default) is owned entirely by the proxy:
 *
 * - `service-ips` (ClusterIP/externalIP . protocol . port → verdict) and
 *   `service-nodeports` (protocol . port → verdict) send a new connection to
 *   the service's dispatch chain, from `prerouting` (pods, other hosts) and
 *   from `output` (the host itself);
 * - a dispatch chain picks an endpoint: first a ClientIP affinity hit
 *   (`ip saddr @aff-…`, a dynamic set with the affinity timeout), otherwise
 *   `numgen random mod N`;
 * - an endpoint chain marks hairpin traffic (the endpoint reaching its own
 *   service) for masquerade, records the affinity, and DNATs;
 * - `no-endpoint-services` / `no-endpoint-nodeports` REJECT (ICMP port
 *   unreachable: `ECONNREFUSED` at once) connections to a service port
 *   without usable endpoints, in filter chains that run before the NAT ones;
 * - `postrouting` masquerades what was marked: hairpin traffic, and NodePort
 *   traffic of `externalTrafficPolicy: Cluster` services (whose endpoint may
 *   be elsewhere); `Local` keeps the client's address.
 *
 * A full render (no `previous`) deletes and recreates the table in the same
 * transaction, so a restart replaces whatever a previous run left. An
 * incremental render (given what the previous one produced) keeps the table
 * and the affinity sets (their entries are the affinity state), rewrites
 * only the chains whose rules changed, adds and deletes only the map
 * elements that changed, and deletes the chains and sets no longer used —
 * so one endpoint change among 1,000 services is a transaction of a few
 * lines.
 */
import { createHash } from "node:crypto";
import type { Endpoint, ServicePort } from "./model.ts";

export interface RenderOptions {
  /** Table name (family `ip`). */
  table: string;
  /** The packet mark bit that asks postrouting to masquerade. */
  masqueradeMark: number;
  /**
   * Addresses NodePorts answer on; empty = every local address except
   * 127.0.0.0/8 (as kube-proxy's default; localhost NodePorts would need
   * `route_localnet`, which this proxy does not turn on).
   */
  nodePortAddresses?: readonly string[];
  /**
   * Masquerade every connection to a ClusterIP too (kube-proxy's
   * `--masquerade-all`): needed when bridged replies bypass netfilter (no
   * `br_netfilter`); costs the pods the client's address.
   */
  masqueradeAll?: boolean;
  /** What the previous render created; absent = replace the whole table. */
  previous?: RenderedState;
}

export interface RenderedState {
  /** Chain name → its rules (one per line). */
  chains: ReadonlyMap<string, string>;
  /** Affinity set names. */
  sets: ReadonlySet<string>;
  /** Map name → element key → verdict. */
  elements: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

export interface Rendered {
  text: string;
  state: RenderedState;
  /** Counts, for logs and metrics. */
  stats: { servicePorts: number; endpoints: number; chains: number };
}

const BASE_CHAINS: Record<string, string> = {
  "filter-prerouting": "type filter hook prerouting priority -110; policy accept;",
  "filter-output": "type filter hook output priority -110; policy accept;",
  "nat-prerouting": "type nat hook prerouting priority -100; policy accept;",
  "nat-output": "type nat hook output priority -100; policy accept;",
  "nat-postrouting": "type nat hook postrouting priority 100; policy accept;",
};

const MAPS: Record<string, string> = {
  "service-ips": "type ipv4_addr . inet_proto . inet_service : verdict;",
  "service-nodeports": "type inet_proto . inet_service : verdict;",
  "no-endpoint-services": "type ipv4_addr . inet_proto . inet_service : verdict;",
  "no-endpoint-nodeports": "type inet_proto . inet_service : verdict;",
};

function hash(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, 10);
}

/** `<prefix>-<hash>-<readable>`: unique by hash, readable in `nft list`, within nft's identifier grammar. */
function ident(prefix: string, key: string, readable: string): string {
  const clean = readable.replace(/[^a-zA-Z0-9/._-]/g, "_").slice(0, 80);
  return `${prefix}-${hash(key)}-${clean}`;
}

function readableOf(sp: ServicePort): string {
  return `${sp.namespace}/${sp.name}/${sp.protocol}/${sp.port}`;
}

export function render(ports: readonly ServicePort[], opts: RenderOptions): Rendered {
  const t = `ip ${opts.table}`;
  const mark = `0x${opts.masqueradeMark.toString(16)}`;
  const chains = new Map<string, string[]>();
  const affinitySets = new Map<string, number>();
  const elements = new Map<string, Map<string, string>>(Object.keys(MAPS).map((m) => [m, new Map<string, string>()]));
  const element = (map: string, key: string, verdict: string) => elements.get(map)!.set(key, verdict);
  let endpointCount = 0;

  const nodePortMatch = opts.nodePortAddresses?.length ? `ip daddr { ${opts.nodePortAddresses.join(", ")} }` : "fib daddr type local ip daddr != 127.0.0.0/8";
  chains.set("filter-prerouting", ["ct state new jump endpoints-check"]);
  chains.set("filter-output", ["ct state new jump endpoints-check"]);
  chains.set("endpoints-check", [
    "ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
    `${nodePortMatch} meta l4proto . th dport vmap @no-endpoint-nodeports`,
  ]);
  chains.set("reject-chain", ["reject"]);
  chains.set("nat-prerouting", ["jump services"]);
  chains.set("nat-output", ["jump services"]);
  chains.set("nat-postrouting", ["jump masquerading"]);
  chains.set("masquerading", [`meta mark & ${mark} == 0 return`, `meta mark set meta mark ^ ${mark}`, "masquerade fully-random"]);
  chains.set("mark-for-masquerade", [`meta mark set meta mark | ${mark}`]);
  chains.set("services", ["ip daddr . meta l4proto . th dport vmap @service-ips", `${nodePortMatch} meta l4proto . th dport vmap @service-nodeports`]);

  const endpointChain = (sp: ServicePort, e: Endpoint): { chain: string; affinity?: string } => {
    const key = `${sp.key}|${e.ip}:${e.port}`;
    const readable = `${readableOf(sp)}__${e.ip}/${e.port}`;
    const chain = ident("ep", key, readable);
    const affinity = sp.affinitySeconds !== undefined ? ident("aff", `${key}|${sp.affinitySeconds}`, readable) : undefined;
    if (!chains.has(chain)) {
      endpointCount++;
      const rules = [`ip saddr ${e.ip} jump mark-for-masquerade`];
      if (affinity) {
        affinitySets.set(affinity, sp.affinitySeconds!);
        rules.push(`update @${affinity} { ip saddr }`);
      }
      rules.push(`meta l4proto ${sp.protocol} dnat to ${e.ip}:${e.port}`);
      chains.set(chain, rules);
    }
    return affinity ? { chain, affinity } : { chain };
  };

  const dispatch = (sp: ServicePort, endpoints: readonly Endpoint[], head: string[]): string[] => {
    const eps = endpoints.map((e) => endpointChain(sp, e));
    const rules = [...head];
    for (const e of eps) if (e.affinity) rules.push(`ip saddr @${e.affinity} goto ${e.chain}`);
    if (eps.length === 1) rules.push(`goto ${eps[0]!.chain}`);
    else rules.push(`numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${e.chain}`).join(", ")} }`);
    return rules;
  };

  for (const sp of ports) {
    const tuple = `${sp.protocol} . ${sp.port}`;
    if (sp.clusterEndpoints.length > 0) {
      const chain = ident("svc", sp.key, readableOf(sp));
      chains.set(chain, dispatch(sp, sp.clusterEndpoints, opts.masqueradeAll ? ["jump mark-for-masquerade"] : []));
      for (const ip of sp.clusterIPs) element("service-ips", `${ip} . ${tuple}`, `goto ${chain}`);
    } else {
      for (const ip of sp.clusterIPs) element("no-endpoint-services", `${ip} . ${tuple}`, "goto reject-chain");
    }
    const external = sp.externalIPs.length > 0 || sp.nodePort !== undefined;
    if (!external) continue;
    if (sp.externalEndpoints.length > 0) {
      const chain = ident("ext", sp.key, readableOf(sp));
      chains.set(chain, dispatch(sp, sp.externalEndpoints, sp.externalLocal ? [] : ["jump mark-for-masquerade"]));
      for (const ip of sp.externalIPs) element("service-ips", `${ip} . ${tuple}`, `goto ${chain}`);
      if (sp.nodePort !== undefined) element("service-nodeports", `${sp.protocol} . ${sp.nodePort}`, `goto ${chain}`);
    } else {
      for (const ip of sp.externalIPs) element("no-endpoint-services", `${ip} . ${tuple}`, "goto reject-chain");
      if (sp.nodePort !== undefined) element("no-endpoint-nodeports", `${sp.protocol} . ${sp.nodePort}`, "goto reject-chain");
    }
  }

  const lines: string[] = [`add table ${t}`];
  const prev = opts.previous;
  if (!prev) lines.push(`delete table ${t}`, `add table ${t}`);
  const bodies = new Map([...chains].map(([name, rules]) => [name, rules.join("\n")]));
  for (const [name, timeout] of [...affinitySets].sort()) {
    if (!prev?.sets.has(name)) lines.push(`add set ${t} ${name} { type ipv4_addr; flags dynamic,timeout; timeout ${timeout}s; }`);
  }
  if (!prev) for (const [name, def] of Object.entries(MAPS)) lines.push(`add map ${t} ${name} { ${def} }`);
  for (const name of chains.keys()) {
    if (prev?.chains.has(name)) continue;
    const base = BASE_CHAINS[name];
    lines.push(base ? `add chain ${t} ${name} { ${base} }` : `add chain ${t} ${name}`);
  }
  // Map elements first leave (they may point at chains about to go), then chains change, then elements arrive.
  const adds: string[] = [];
  for (const [map, els] of elements) {
    const before = prev?.elements.get(map);
    const gone = before ? [...before].filter(([k, v]) => els.get(k) !== v).map(([k]) => k) : [];
    if (gone.length) lines.push(`delete element ${t} ${map} { ${gone.join(", ")} }`);
    const fresh = [...els].filter(([k, v]) => before?.get(k) !== v).map(([k, v]) => `${k} : ${v}`);
    if (fresh.length) adds.push(`add element ${t} ${map} { ${fresh.join(", ")} }`);
  }
  for (const [name, rules] of chains) {
    const old = prev?.chains.get(name);
    if (old === bodies.get(name)) continue;
    if (old !== undefined) lines.push(`flush chain ${t} ${name}`);
    for (const r of rules) lines.push(`add rule ${t} ${name} ${r}`);
  }
  lines.push(...adds);
  if (prev) {
    for (const name of prev.chains.keys()) if (!chains.has(name)) lines.push(`flush chain ${t} ${name}`);
    for (const name of prev.chains.keys()) if (!chains.has(name)) lines.push(`delete chain ${t} ${name}`);
    for (const name of prev.sets) if (!affinitySets.has(name)) lines.push(`delete set ${t} ${name}`);
  }
  return {
    text: lines.join("\n") + "\n",
    state: { chains: bodies, sets: new Set(affinitySets.keys()), elements },
    stats: { servicePorts: ports.length, endpoints: endpointCount, chains: chains.size },
  };
}

/** The commands that remove the table (shutdown). */
export function renderDelete(table: string): string {
  return `add table ip ${table}\ndelete table ip ${table}\n`;
}
