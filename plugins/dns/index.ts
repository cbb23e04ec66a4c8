/**
 * @module The cluster DNS add-on (CoreDNS's job): serves the cluster zone
 * (`<svc>.<ns>.svc.cluster.local`, headless endpoints, SRV for named ports,
 * pod A records) from Service and EndpointSlice informers, and forwards
 * every other name to the host's resolvers. Pods get it as their nameserver
 * from the node agent (its `clusterDNS` setting) with the Kubernetes search
 * path, so `web`, `web.default` and `web.default.svc.cluster.local` resolve.
 *
 * Data path choice: the server listens on configured addresses (default:
 * the node address, any free port) and publishes itself as the `kube-dns`
 * Service in kube-system at a fixed ClusterIP (the 10th address of the
 * service range, e.g. 10.96.0.10), with an EndpointSlice it owns pointing at
 * the node address and the bound port (service.ts). The network proxy DNATs
 * `<clusterIP>:53` there, from the host and from pods on every node; the
 * node agent finds the ClusterIP through the Service. It is a plugin, not a
 * pod, so homelab machines pay no container for it. See README.md.
 */
import { readFileSync } from "node:fs";
import { serviceAccountIdentity } from "../../core/plugin/identity.ts";
import { Tokens } from "../../core/plugin/tokens.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import type { EndpointSlice, Service } from "./records.ts";
import { defaultAllowedSources, defaultRouteInterfaces, localInterfaces, SourceAcl } from "./acl.ts";
import { Zone } from "./records.ts";
import { DnsServer, type HostPort } from "./server.ts";
import { type DnsServiceConfig, endpointFor, ensureDnsService, hostAddress, publishedPort } from "./service.ts";

export interface DnsConfig {
  clusterDomain: string;
  /**
   * `HOST:PORT` addresses to serve on (port 0 picks one); empty = the node
   * address (`service.endpointAddress`, or this host's first non-loopback
   * IPv4) on a free port. Prefer specific addresses to 0.0.0.0: a UDP answer
   * from a wildcard socket leaves from the address nearest the client, which
   * the DNAT of the kube-dns Service does not recognise as its reply.
   */
  listen: string[];
  /** `HOST[:PORT]` resolvers for other names; empty = the nameservers in /etc/resolv.conf. */
  upstream: string[];
  ttl: number;
  /** The `kube-dns` Service pods use (see service.ts). */
  service: DnsServiceConfig;
  /**
   * CIDRs answered beyond the default sources (loopback, this host, the
   * subnets of interfaces without a default route: the pod bridges); see
   * acl.ts. `0.0.0.0/0` answers everyone (an open resolver on the LAN).
   */
  allowFrom: string[];
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
  /** The `kube-dns` Service's ClusterIP, once published (port 53). */
  serviceIP?: string;
}

/**
 * The source check (acl.ts). Interfaces come and go (a runtime creates its
 * pod bridge when it starts, after this plugin), so a source that is not
 * allowed re-reads them, at most every 2 s, before it is refused.
 */
function sourceCheck(allowFrom: string[]): (address: string) => boolean {
  const build = () => new SourceAcl(defaultAllowedSources(localInterfaces(), defaultRouteInterfaces(), allowFrom));
  let acl = build();
  let builtAt = Date.now();
  return (address) => {
    if (acl.allows(address)) return true;
    if (Date.now() - builtAt < 2000) return false;
    acl = build();
    builtAt = Date.now();
    return acl.allows(address);
  };
}

const plugin: Plugin<DnsConfig> = {
  manifest: {
    name: "dns",
    version: "0.1.0",
    description: "Cluster DNS: service and pod names, SRV records, forwarding",
    provides: ["cluster-dns"],
    roles: ["server"],
    // CoreDNS's ServiceAccount, bound to system:coredns (and system:skiff:dns-publisher for its Service).
    identity: serviceAccountIdentity("kube-system", "coredns"),
    configSchema: {
      additionalProperties: false,
      properties: {
        clusterDomain: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", default: "cluster.local" },
        listen: { type: "array", items: { type: "string", minLength: 1 }, default: [] },
        upstream: { type: "array", items: { type: "string", minLength: 1 }, default: [] },
        ttl: { type: "integer", minimum: 0, maximum: 3600, default: 5 },
        allowFrom: { type: "array", items: { type: "string", pattern: "^[0-9a-fA-F:.]+/\\d{1,3}$" }, default: [] },
        service: {
          type: "object",
          additionalProperties: false,
          properties: {
            enabled: { type: "boolean", default: true },
            namespace: { type: "string", minLength: 1, default: "kube-system" },
            name: { type: "string", minLength: 1, default: "kube-dns" },
            clusterIP: { type: "string", pattern: "^(\\d+\\.\\d+\\.\\d+\\.\\d+)?$", default: "" },
            endpointAddress: { type: "string", pattern: "^(\\d+\\.\\d+\\.\\d+\\.\\d+)?$", default: "" },
          },
          default: {},
        },
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
    const allow = sourceCheck(ctx.config.allowFrom);
    const svcCfg = ctx.config.service;
    let server: DnsServer;
    if (ctx.config.listen.length > 0) {
      server = new DnsServer({ zone, listen: ctx.config.listen.map((l) => parseHostPort(l, 53)), upstream, allow, log: ctx.log });
      await server.start();
    } else {
      // The node address on the port the previous run published when it is
      // free (clients' conntrack entries keep pointing there for a while),
      // otherwise on any free port.
      const host = svcCfg.endpointAddress || hostAddress() || "127.0.0.1";
      const previous = svcCfg.enabled ? await publishedPort(ctx.client, svcCfg, host) : undefined;
      server = new DnsServer({ zone, listen: [{ host, port: previous ?? 0 }], upstream, allow, log: ctx.log });
      try {
        await server.start();
      } catch (e) {
        if (previous === undefined) throw e;
        await server.stop().catch(() => undefined);
        server = new DnsServer({ zone, listen: [{ host, port: 0 }], upstream, allow, log: ctx.log });
        await server.start();
      }
    }
    const handle = ctx.container.resolve(Tokens.ClusterDns) as ClusterDns & { server?: DnsServer };
    handle.server = server;
    if (svcCfg.enabled) {
      const endpoint = endpointFor(server.addresses, svcCfg.endpointAddress);
      if (server.addresses.some((a) => a.host === "0.0.0.0")) {
        ctx.log.warn({ listen: server.addresses }, "cluster DNS listens on 0.0.0.0: UDP answers through the kube-dns ClusterIP may leave from the wrong address; listen on the node address instead");
      }
      if (!endpoint) {
        ctx.log.warn({ listen: server.addresses }, "cluster DNS listens on no address pods can reach: not publishing the kube-dns Service (listen on 0.0.0.0 or a node address)");
      } else {
        try {
          const ip = await ensureDnsService(ctx.client, svcCfg, endpoint, ctx.nodeName, ctx.log);
          if (ip) handle.serviceIP = ip;
        } catch (e) {
          await server.stop();
          throw e;
        }
      }
    }
    ctx.log.info({ listen: server.addresses, zone: zone.zone, upstream, serviceIP: handle.serviceIP }, "cluster DNS serving");
    return async () => {
      delete handle.server;
      delete handle.serviceIP;
      // The EndpointSlice stays: while the server is down, queries to the
      // ClusterIP are refused at once (closed port), and the next run binds
      // the same port again.
      await server.stop();
    };
  },
};

export default plugin;
