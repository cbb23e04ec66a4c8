/**
 * @module The cluster zone's records, computed from Services and
 * EndpointSlices (the Kubernetes DNS-based service discovery spec, as
 * CoreDNS's `kubernetes` plugin serves it):
 *
 * | name | answer |
 * |---|---|
 * | `<svc>.<ns>.svc.<zone>` | A/AAAA of the ClusterIPs; headless: of the ready endpoints; ExternalName: CNAME |
 * | `<host>.<svc>.<ns>.svc.<zone>` | A/AAAA of one headless endpoint (its `hostname`, else its IP dashed) |
 * | `_<port>._<proto>.<svc>.<ns>.svc.<zone>` | SRV per named port (headless: one per endpoint), with A/AAAA in additionals |
 * | `<a-b-c-d>.<ns>.pod.<zone>` | A of that IP ("pods insecure", as kubeadm configures CoreDNS) |
 *
 * Existing names with no record of the asked type answer NOERROR with no
 * data; names that do not exist, NXDOMAIN — both with the zone's SOA.
 */
import type { Answer, Question, RecordType } from "dns-packet";
import type { KubeObject } from "../../core/api/meta.ts";

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
}

export interface Service extends KubeObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalName?: string;
    ports?: ServicePort[];
    publishNotReadyAddresses?: boolean;
  };
}

export interface EndpointSlice extends KubeObject {
  addressType?: string;
  endpoints?: {
    addresses: string[];
    hostname?: string;
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

/** What the records are computed from (the informer caches). */
export interface ZoneSource {
  service(namespace: string, name: string): Service | undefined;
  /** The EndpointSlices of one Service (label `kubernetes.io/service-name`). */
  slices(namespace: string, service: string): EndpointSlice[];
}

export interface Lookup {
  /** 0 NOERROR, 3 NXDOMAIN. */
  rcode: 0 | 3;
  answers: Answer[];
  additionals: Answer[];
  /** The SOA, on NXDOMAIN and NODATA. */
  authorities: Answer[];
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isV4(ip: string): boolean {
  const m = IPV4.exec(ip);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

function addressRecord(name: string, ip: string, ttl: number): Answer {
  return isV4(ip) ? { type: "A", name, ttl, data: ip } : { type: "AAAA", name, ttl, data: ip };
}

/** `10.1.2.3` → `10-1-2-3`; `fd00::1` → `fd00--1`. */
export function dashed(ip: string): string {
  return ip.replace(/[.:]/g, "-");
}

interface Endpoint {
  host: string;
  ips: string[];
  ports: { name?: string; port?: number; protocol?: string }[];
}

export class Zone {
  readonly zone: string;
  readonly #soa: Answer;

  constructor(
    private readonly source: ZoneSource,
    zone = "cluster.local",
    private readonly ttl = 5,
  ) {
    this.zone = zone.toLowerCase().replace(/\.$/, "");
    this.#soa = {
      type: "SOA",
      name: this.zone,
      ttl,
      data: {
        mname: `ns.dns.${this.zone}`,
        rname: `hostmaster.${this.zone}`,
        serial: 1,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: ttl,
      },
    };
  }

  /** Whether a name is inside the cluster zone (else it is forwarded). */
  contains(name: string): boolean {
    const n = name.toLowerCase().replace(/\.$/, "");
    return n === this.zone || n.endsWith(`.${this.zone}`);
  }

  lookup(q: Question): Lookup {
    const name = q.name.toLowerCase().replace(/\.$/, "");
    const labels = name === this.zone ? [] : name.slice(0, -(this.zone.length + 1)).split(".");
    const records = this.#records(labels, name);
    if (records === undefined) return { rcode: 3, answers: [], additionals: [], authorities: [this.#soa] };
    const wanted = records.answers.filter((a) => a.type === q.type || (a.type === "CNAME" && q.type !== "CNAME") || (q.type as string) === "ANY");
    if (wanted.length === 0) return { rcode: 0, answers: [], additionals: [], authorities: [this.#soa] };
    return { rcode: 0, answers: wanted, additionals: q.type === "SRV" ? records.additionals : [], authorities: [] };
  }

  /** Every record at `name`, or undefined when the name does not exist. */
  #records(labels: string[], name: string): { answers: Answer[]; additionals: Answer[] } | undefined {
    const n = labels.length;
    const empty = { answers: [], additionals: [] };
    if (n === 0) return { answers: [this.#soa], additionals: [] };
    if (labels[n - 1] === "pod") {
      if (n === 1 || n === 2) return empty; // pod.<zone>, <ns>.pod.<zone>
      if (n !== 3) return undefined;
      const ip = labels[0]!.includes("-") && /^[0-9-]+$/.test(labels[0]!) ? labels[0]!.replace(/-/g, ".") : labels[0]!.replace(/-/g, ":");
      if (!isV4(ip) && !ip.includes(":")) return undefined;
      return { answers: [addressRecord(name, ip, this.ttl)], additionals: [] };
    }
    if (labels[n - 1] !== "svc") return undefined;
    if (n === 1 || n === 2) return empty; // svc.<zone>, <ns>.svc.<zone>
    const ns = labels[n - 2]!;
    const svcName = labels[n - 3]!;
    const svc = this.source.service(ns, svcName);
    if (!svc) return undefined;
    const spec = svc.spec ?? {};
    const headless = spec.clusterIP === "None";
    if (n === 3) {
      if (spec.type === "ExternalName" && spec.externalName) {
        return { answers: [{ type: "CNAME", name, ttl: this.ttl, data: spec.externalName.replace(/\.$/, "") }], additionals: [] };
      }
      if (!headless) {
        const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
        return { answers: ips.map((ip) => addressRecord(name, ip, this.ttl)), additionals: [] };
      }
      const answers: Answer[] = [];
      const seen = new Set<string>();
      for (const ep of this.#endpoints(svc, ns, svcName)) {
        for (const ip of ep.ips) {
          if (!seen.has(ip)) answers.push(addressRecord(name, ip, this.ttl));
          seen.add(ip);
        }
      }
      return { answers, additionals: [] };
    }
    if (n === 4 && headless) {
      // <host>.<svc>.<ns>.svc
      const ep = this.#endpoints(svc, ns, svcName).find((e) => e.host === labels[0]);
      return ep ? { answers: ep.ips.map((ip) => addressRecord(name, ip, this.ttl)), additionals: [] } : undefined;
    }
    if (n === 5 && labels[0]!.startsWith("_") && labels[1]!.startsWith("_")) {
      return this.#srv(svc, ns, svcName, labels[0]!.slice(1), labels[1]!.slice(1).toUpperCase(), name);
    }
    return undefined;
  }

  #srv(svc: Service, ns: string, svcName: string, port: string, proto: string, name: string) {
    const base = `${svcName}.${ns}.svc.${this.zone}`;
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    if (svc.spec?.clusterIP !== "None") {
      const p = svc.spec?.ports?.find((x) => x.name === port && (x.protocol ?? "TCP") === proto);
      if (!p) return undefined;
      answers.push({ type: "SRV", name, ttl: this.ttl, data: { priority: 0, weight: 100, port: p.port, target: base } });
      const ips = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec?.clusterIP ? [svc.spec.clusterIP] : [];
      for (const ip of ips) additionals.push(addressRecord(base, ip, this.ttl));
      return { answers, additionals };
    }
    for (const ep of this.#endpoints(svc, ns, svcName)) {
      const p = ep.ports.find((x) => x.name === port && (x.protocol ?? "TCP") === proto);
      if (!p?.port) continue;
      const target = `${ep.host}.${base}`;
      answers.push({ type: "SRV", name, ttl: this.ttl, data: { priority: 0, weight: 100, port: p.port, target } });
      for (const ip of ep.ips) additionals.push(addressRecord(target, ip, this.ttl));
    }
    return answers.length ? { answers, additionals } : undefined;
  }

  /** Endpoints of a service that DNS publishes: ready ones, or all with publishNotReadyAddresses. */
  #endpoints(svc: Service, ns: string, svcName: string): Endpoint[] {
    const all = svc.spec?.publishNotReadyAddresses === true;
    const out: Endpoint[] = [];
    for (const slice of this.source.slices(ns, svcName)) {
      if (slice.addressType === "FQDN") continue;
      for (const e of slice.endpoints ?? []) {
        if (!all && e.conditions?.ready === false) continue;
        if (e.addresses.length === 0) continue;
        out.push({ host: e.hostname ?? dashed(e.addresses[0]!), ips: e.addresses, ports: slice.ports ?? [] });
      }
    }
    return out;
  }
}

/** The record types this server answers from the zone; others get NODATA. */
export const ZONE_TYPES: RecordType[] = ["A", "AAAA", "SRV", "CNAME", "SOA"];
