/**
 * @module The cluster DNS add-on (CoreDNS's job): serves the cluster zone
 * (`<svc>.<ns>.svc.cluster.local`, headless endpoints, SRV for named ports,
 * pod A records) from Service and EndpointSlice informers, and forwards
 * every other name to the host's resolvers. Pods get it as their nameserver
 * from the node agent (its `clusterDNS` setting) with the Kubernetes search
 * path, so `web`, `web.default` and `web.default.svc.cluster.local` resolve.
 *
 * Data path choice: the server listens on configured addresses (default
 * 127.0.0.1:10053 for the host; the all-in-one preset points the node agent
 * at an address pods can reach). It is a plugin, not a pod, so homelab
 * machines pay no container for it.
 */
import { readFileSync } from "node:fs";
import { Tokens } from "../../core/plugin/tokens.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import type { EndpointSlice, Service } from "./records.ts";
import { Zone } from "./records.ts";
import { DnsServer, type HostPort } from "./server.ts";

export interface DnsConfig {
  clusterDomain: string;
  /** `HOST:PORT` addresses to serve on (port 0 picks one). */
  listen: string[];
  /** `HOST[:PORT]` resolvers for other names; empty = the nameservers in /etc/resolv.conf. */
  upstream: string[];
  ttl: number;
}

const SERVICES = { group: "", version: "v1", resource: "services" };
const SLICES = { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" };
const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export function parseHostPort(s: string, defaultPort: number): HostPort {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  if (m) return { host: m[1]!, port: m[2] ? Number(m[2]) : defaultPort };
  return { host: s, port: defaultPort }; // a bare IPv6 address
}

/** The nameservers of a resolv.conf. */
export function resolvConfServers(text: string): HostPort[] {
  const out: HostPort[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push({ host: m[1]!, port: 53 });
  }
  return out;
}

/** The DNS server a running plugin serves on; `ctx.container.resolve(Tokens.ClusterDns)`. */
export interface ClusterDns {
  addresses(): HostPort[];
  zone: string;
}

const plugin: Plugin<DnsConfig> = {
  manifest: {
    name: "dns",
    version: "0.1.0",
    description: "Cluster DNS: service and pod names, SRV records, forwarding",
    provides: ["cluster-dns"],
    roles: ["server"],
    configSchema: {
      additionalProperties: false,
      properties: {
        clusterDomain: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", default: "cluster.local" },
        listen: { type: "array", items: { type: "string", minLength: 1 }, minItems: 1, default: ["127.0.0.1:10053"] },
        upstream: { type: "array", items: { type: "string", minLength: 1 }, default: [] },
        ttl: { type: "integer", minimum: 0, maximum: 3600, default: 5 },
      },
    },
  },
  register(container, config, tokens) {
    // The addresses are known once `start` has bound them.
    const handle: ClusterDns & { server?: DnsServer } = { addresses: () => handle.server?.addresses ?? [], zone: config.clusterDomain };
    container.register(tokens.ClusterDns, { useValue: handle });
  },
  async start(ctx) {
    const services = ctx.informers.informer<Service>(SERVICES);
    const slices = ctx.informers.informer<EndpointSlice>(SLICES);
    slices.addIndex("service", (s) => {
      const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
      return svc ? [`${s.metadata.namespace}/${svc}`] : [];
    });
    const zone = new Zone(
      {
        service: (ns, name) => services.get(name, ns),
        slices: (ns, name) => slices.byIndex("service", `${ns}/${name}`),
      },
      ctx.config.clusterDomain,
      ctx.config.ttl,
    );
    let upstream = ctx.config.upstream.map((u) => parseHostPort(u, 53));
    if (upstream.length === 0) {
      try {
        upstream = resolvConfServers(readFileSync("/etc/resolv.conf", "utf8"));
      } catch {
        ctx.log.warn("no upstream resolvers: /etc/resolv.conf is unreadable; names outside the cluster get SERVFAIL");
      }
    }
    await Promise.all([services.waitForSync(), slices.waitForSync()]);
    const server = new DnsServer({ zone, listen: ctx.config.listen.map((l) => parseHostPort(l, 53)), upstream, log: ctx.log });
    await server.start();
    const handle = ctx.container.resolve(Tokens.ClusterDns) as ClusterDns & { server?: DnsServer };
    handle.server = server;
    ctx.log.info({ listen: server.addresses, zone: zone.zone, upstream }, "cluster DNS serving");
    return async () => {
      delete handle.server;
      await server.stop();
    };
  },
};

export default plugin;
