/**
 * @module Who the cluster DNS answers. The server listens on the node's
 * address (so pods reach it through the kube-dns ClusterIP's DNAT), which on
 * a homelab is a LAN address: without a source check it would be an open
 * resolver for the whole LAN — answering cluster names to anyone and
 * forwarding any name upstream (an amplifier). CoreDNS avoids this by living
 * on the pod network; this plugin lives on the host, so it checks sources.
 *
 * Answered by default: loopback, this host's own addresses, and the subnets
 * of its interfaces that carry no default route — the pod bridges of every
 * runtime (the process runtime's `skiff0`, Docker's bridges, containerd's
 * CNI bridge). Not answered: the subnets of default-route interfaces (the
 * LAN) and anything beyond them; those get REFUSED (as CoreDNS's `acl`
 * plugin answers), which is no larger than the query. More sources (pods of
 * other nodes routed here, a management network) are added with the
 * plugin's `allowFrom` CIDRs; `0.0.0.0/0` and `::/0` open it entirely.
 *
 * Matching is `node:net`'s BlockList (IPv4-mapped IPv6 sources included).
 */
import { readFileSync } from "node:fs";
import { BlockList, isIP } from "node:net";
import { networkInterfaces } from "node:os";

/** Interfaces that carry a default route (IPv4 or IPv6), from /proc; none when /proc is unavailable. */
export function defaultRouteInterfaces(read: (path: string) => string = (p) => readFileSync(p, "utf8")): Set<string> {
  const out = new Set<string>();
  try {
    for (const line of read("/proc/net/route").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 8 && f[1] === "00000000" && f[7] === "00000000") out.add(f[0]!);
    }
  } catch {
    /* not Linux */
  }
  try {
    for (const line of read("/proc/net/ipv6_route").split("\n")) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && /^0+$/.test(f[0]!) && f[1] === "00" && f[9] !== "lo") out.add(f[9]!);
    }
  } catch {
    /* no IPv6 */
  }
  return out;
}

export interface LocalInterface {
  name: string;
  address: string;
  /** `address/prefix`. */
  cidr: string | null;
  internal: boolean;
}

/** This host's interfaces, flattened from `os.networkInterfaces()`. */
export function localInterfaces(): LocalInterface[] {
  const out: LocalInterface[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const a of list ?? []) out.push({ name, address: a.address, cidr: a.cidr ?? null, internal: a.internal });
  }
  return out;
}

/** The default sources as CIDRs (see the module doc), then `extra`. */
export function defaultAllowedSources(interfaces: LocalInterface[], defaultRoutes: Set<string>, extra: string[] = []): string[] {
  const out = new Set<string>(["127.0.0.0/8", "::1/128"]);
  for (const i of interfaces) {
    if (i.address.startsWith("fe80")) continue;
    out.add(`${i.address}/${i.address.includes(":") ? 128 : 32}`);
    // An interface address with its prefix (`10.88.0.1/16`) stands for its subnet: BlockList masks it.
    if (!i.internal && !defaultRoutes.has(i.name) && i.cidr) out.add(i.cidr);
  }
  for (const e of extra) out.add(e);
  return [...out];
}

/** A source check over CIDRs; throws on a malformed one, naming it. */
export class SourceAcl {
  readonly #list = new BlockList();
  readonly cidrs: string[];

  constructor(cidrs: string[]) {
    this.cidrs = cidrs;
    for (const c of cidrs) {
      const [addr, bits, more] = c.split("/");
      const family = addr ? isIP(addr) : 0;
      const prefix = Number(bits);
      if (!family || more !== undefined || bits === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        throw new Error(`allowFrom: ${JSON.stringify(c)} is not a CIDR (like 10.42.0.0/16 or fd00::/64)`);
      }
      this.#list.addSubnet(addr!, prefix, family === 4 ? "ipv4" : "ipv6");
    }
  }

  allows(address: string): boolean {
    const family = isIP(address);
    if (!family) return false;
    return this.#list.check(address, family === 4 ? "ipv4" : "ipv6");
  }
}
