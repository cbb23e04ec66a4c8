/**
 * @module Pod networking for the process runtime (root only): one network
 * namespace per pod (`ip netns add <prefix><id>`), a veth pair whose host end
 * joins a bridge this runtime creates (default `skiff0`, 10.88.0.0/16, the
 * bridge holding the gateway .1), and an address for the pod's `eth0` from
 * the subnet. The host reaches every pod IP through the bridge; pods reach
 * each other through it. Nothing else on the host is touched: no sysctl, no
 * iptables (so pods have no route beyond the host — no NAT to the outside).
 *
 * All commands run through `ip -batch`, two processes per pod, so a sandbox
 * costs a few milliseconds.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

export interface NetworkOptions {
  /** Bridge name (≤ 15 chars). */
  bridge: string;
  /** IPv4 subnet in CIDR form; the bridge gets the first address. */
  subnet: string;
  /** Network namespaces are named `<netnsPrefix><sandbox id>`. */
  netnsPrefix: string;
  /** Host-side veth names are `<vethPrefix><first 8 of the sandbox id>` (≤ 15 chars). */
  vethPrefix: string;
}

export interface PodInterface {
  netns: string;
  veth: string;
  ip: string;
}

/** Runs `ip` with the given arguments; `input` goes to its stdin (batch mode). Rejects with its stderr. */
export function ip(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn("ip", args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`ip ${args.join(" ")}: ${err.trim() || `exit ${code}`}`))));
    p.stdin.end(input ?? "");
  });
}

function ipToInt(s: string): number {
  const parts = s.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 address ${JSON.stringify(s)}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export interface Subnet {
  base: number;
  prefix: number;
  gateway: string;
  /** First and last assignable pod address. */
  first: number;
  last: number;
}

export function parseSubnet(cidr: string): Subnet {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || prefix < 8 || prefix > 29) throw new Error(`subnet must be IPv4 CIDR with a prefix of 8 to 29, got ${JSON.stringify(cidr)}`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (ipToInt(m[1]!) & mask) >>> 0;
  const size = 2 ** (32 - prefix);
  return { base, prefix, gateway: intToIp(base + 1), first: base + 2, last: base + size - 2 };
}

/** Whether this process can build pod networks: root, with `ip` present. */
export function networkAvailable(): boolean {
  return process.getuid?.() === 0 && ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].some((p) => existsSync(p));
}

export class PodNetwork {
  readonly subnet: Subnet;
  #bridgeReady?: Promise<void>;
  #createdBridge = false;

  constructor(readonly opts: NetworkOptions) {
    this.subnet = parseSubnet(opts.subnet);
    if (opts.bridge.length > 15) throw new Error(`bridge name ${opts.bridge} is longer than 15 characters`);
    if (opts.vethPrefix.length > 7) throw new Error(`vethPrefix ${opts.vethPrefix} is longer than 7 characters`);
  }

  /** Lowest free address, given the ones in use. */
  allocate(inUse: ReadonlySet<string>): string {
    for (let n = this.subnet.first; n <= this.subnet.last; n++) {
      const a = intToIp(n);
      if (!inUse.has(a)) return a;
    }
    throw new Error(`no free address left in ${this.opts.subnet}`);
  }

  netnsName(sandboxId: string): string {
    return `${this.opts.netnsPrefix}${sandboxId}`;
  }

  /** Creates the bridge with the gateway address unless it exists already. */
  ensureBridge(): Promise<void> {
    this.#bridgeReady ??= (async () => {
      const exists = await ip(["-o", "link", "show", "dev", this.opts.bridge]).then(
        () => true,
        () => false,
      );
      const gw = `${this.subnet.gateway}/${this.subnet.prefix}`;
      if (!exists) {
        await ip(["-batch", "-"], [`link add ${this.opts.bridge} type bridge`, `addr add ${gw} dev ${this.opts.bridge}`, `link set ${this.opts.bridge} up`].join("\n") + "\n");
        this.#createdBridge = true;
      } else {
        const addrs = await ip(["-o", "-4", "addr", "show", "dev", this.opts.bridge]);
        if (!addrs.includes(` ${gw} `)) await ip(["addr", "add", gw, "dev", this.opts.bridge]);
        await ip(["link", "set", this.opts.bridge, "up"]);
      }
    })().catch((e) => {
      this.#bridgeReady = undefined;
      throw e;
    });
    return this.#bridgeReady;
  }

  /** Namespace, veth pair on the bridge, address and default route for one pod. */
  async setUp(sandboxId: string, address: string): Promise<PodInterface> {
    await this.ensureBridge();
    const netns = this.netnsName(sandboxId);
    const veth = `${this.opts.vethPrefix}${sandboxId.slice(0, 8)}`;
    try {
      await ip(
        ["-batch", "-"],
        [
          `netns add ${netns}`,
          `link add ${veth} type veth peer name eth0 netns ${netns}`,
          `link set ${veth} master ${this.opts.bridge} up`,
          // Hairpin: a pod reaching its own Service's ClusterIP is DNATed back out of the port it came in by.
          `link set ${veth} type bridge_slave hairpin on`,
        ].join("\n") + "\n",
      );
      await ip(
        ["-n", netns, "-batch", "-"],
        [`addr add ${address}/${this.subnet.prefix} dev eth0`, "link set eth0 up", "link set lo up", `route add default via ${this.subnet.gateway}`].join("\n") + "\n",
      );
    } catch (e) {
      await this.tearDown({ netns, veth });
      throw e;
    }
    return { netns, veth, ip: address };
  }

  /** Deletes the pod's namespace (which takes the veth pair with it). Idempotent. */
  async tearDown(i: { netns: string; veth: string }): Promise<void> {
    await ip(["netns", "del", i.netns]).catch(() => undefined);
    await ip(["link", "del", i.veth]).catch(() => undefined);
  }

  /** Removes the bridge if this instance created it. */
  async removeBridgeIfOurs(): Promise<void> {
    if (!this.#createdBridge) return;
    this.#createdBridge = false;
    this.#bridgeReady = undefined;
    await ip(["link", "del", this.opts.bridge]).catch(() => undefined);
  }

  /** Removes the bridge unconditionally (tests, `cleanup`). */
  async removeBridge(): Promise<void> {
    this.#bridgeReady = undefined;
    await ip(["link", "del", this.opts.bridge]).catch(() => undefined);
  }
}
