/**
 * @module `NftablesProxy`, the `NetworkProxy` implementation: Service and
 * EndpointSlice informers feed a debounced sync that renders the whole
 * ruleset (rules.ts) and applies it with one `nft -f -` (one atomic
 * transaction). The first sync of a run replaces the table; later ones are
 * incremental (affinity state survives). Stopping deletes the table.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { KubeObject } from "../../core/api/meta.ts";
import type { Informer } from "../../core/client/types.ts";
import type { Logger } from "../../core/log.ts";
import type { NetworkProxy, PluginContext } from "../../core/plugin/types.ts";
import { type EndpointSlice, type Service, servicePorts } from "./model.ts";
import { type RenderedState, render, renderDelete } from "./rules.ts";

export interface ProxyConfig {
  /** The nftables table (family ip) the proxy owns. */
  table: string;
  /** Packet mark bit asking for masquerade in postrouting. */
  masqueradeMark: number;
  /** Addresses NodePorts answer on; empty = every non-loopback local address. */
  nodePortAddresses: string[];
  /** Masquerade ClusterIP traffic too (for bridges without br_netfilter). */
  masqueradeAll: boolean;
  /** Wait this long after a change before syncing (changes meanwhile are batched). */
  syncDebounceMs: number;
  /** This often, check that the table is still there (rebuilt if not) and sync. */
  resyncSeconds: number;
  /** The nft binary. */
  nft: string;
}

export const DEFAULT_PROXY_CONFIG: ProxyConfig = {
  table: "skiff-proxy",
  masqueradeMark: 0x4000,
  nodePortAddresses: [],
  masqueradeAll: false,
  syncDebounceMs: 100,
  resyncSeconds: 60,
  nft: "nft",
};

const SERVICES = { group: "", version: "v1", resource: "services" };
const SLICES = { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" };

/** Runs `nft` with `input` on stdin; rejects with its stderr. */
export function runNft(nft: string, args: string[], input = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(nft, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`nft ${args.join(" ")}: ${err.trim().slice(0, 2000) || `exit ${code}`}`))));
    p.stdin.on("error", () => undefined);
    p.stdin.end(input);
  });
}

/** Whether bridged IPv4 traffic passes the ip hooks (br_netfilter), as kube-proxy requires. */
function bridgeNetfilter(): boolean {
  try {
    return readFileSync("/proc/sys/net/bridge/bridge-nf-call-iptables", "utf8").trim() === "1";
  } catch {
    return false;
  }
}

function findExecutable(name: string): string | undefined {
  if (name.includes("/")) return existsSync(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

export class NftablesProxy implements NetworkProxy {
  readonly name = "nftables";
  #ctx?: PluginContext;
  #log?: Logger;
  #services?: Informer<KubeObject>;
  #slices?: Informer<KubeObject>;
  #previous?: RenderedState;
  #timer?: ReturnType<typeof setTimeout>;
  #resync?: ReturnType<typeof setInterval>;
  #running?: Promise<void>;
  #again = false;
  #stopped = false;
  #unsubscribe: (() => void)[] = [];
  #nftPath?: string;
  /** Last sync's duration and size, for logs and tests. */
  lastSync?: { ms: number; servicePorts: number; endpoints: number; bytes: number };
  /** The next sync first checks that the table is still there (a firewall reload may flush the ruleset). */
  #verify = false;

  constructor(readonly config: ProxyConfig = DEFAULT_PROXY_CONFIG) {}

  async available(): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (process.platform !== "linux") return { ok: false, reason: `nftables needs Linux (this is ${process.platform})` };
    if (process.getuid?.() !== 0) return { ok: false, reason: "not running as root: cannot program nftables (Services are not reachable through ClusterIP/NodePort on this node)" };
    this.#nftPath = findExecutable(this.config.nft);
    if (!this.#nftPath) return { ok: false, reason: `${this.config.nft} not found (install the nftables package)` };
    try {
      await runNft(this.#nftPath, ["list", "tables"]);
    } catch (e) {
      return { ok: false, reason: `nft does not work here: ${(e as Error).message}` };
    }
    return { ok: true };
  }

  async start(ctx: PluginContext): Promise<void> {
    this.#ctx = ctx;
    this.#log = ctx.log;
    this.#stopped = false;
    this.#nftPath ??= findExecutable(this.config.nft) ?? this.config.nft;
    this.#services = ctx.informers.informer(SERVICES);
    this.#slices = ctx.informers.informer(SLICES);
    const kick = () => this.#schedule();
    const handlers = { add: kick, update: kick, delete: kick };
    this.#unsubscribe.push(this.#services.on(handlers), this.#slices.on(handlers));
    await Promise.all([this.#services.waitForSync(), this.#slices.waitForSync()]);
    if (!this.config.masqueradeAll && !bridgeNetfilter()) {
      ctx.log.warn(
        {},
        "bridged traffic bypasses netfilter (br_netfilter not loaded or net.bridge.bridge-nf-call-iptables=0): a pod reaching a Service whose endpoint is on its own bridge will not get the answer; load br_netfilter or set masqueradeAll",
      );
    }
    this.#previous = undefined;
    await this.syncNow();
    this.#resync = setInterval(() => {
      this.#verify = true;
      this.#schedule();
    }, this.config.resyncSeconds * 1000);
    this.#resync.unref?.();
  }

  /** Syncs now (waiting for a sync in flight first); rejects when nft fails. */
  async syncNow(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#running) await this.#running.catch(() => undefined);
    this.#running = this.#sync().finally(() => (this.#running = undefined));
    return this.#running;
  }

  #schedule(delay = this.config.syncDebounceMs): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#running) {
        this.#again = true;
        return;
      }
      this.syncNow().catch((e) => {
        this.#log?.error({ err: (e as Error).message }, "network proxy sync failed; retrying");
        this.#previous = undefined; // the next attempt replaces the whole table
        this.#schedule(Math.max(1000, this.config.syncDebounceMs));
      });
    }, delay);
  }

  async #sync(): Promise<void> {
    if (this.#stopped || !this.#services || !this.#slices) return;
    const t0 = performance.now();
    if (this.#verify && this.#previous) {
      this.#verify = false;
      const there = await runNft(this.#nftPath!, ["list", "chain", "ip", this.config.table, "services"]).then(
        () => true,
        () => false,
      );
      if (!there) {
        this.#log?.warn({ table: this.config.table }, "the network proxy's nftables table disappeared; rebuilding it");
        this.#previous = undefined;
      }
    }
    const ports = servicePorts({ services: this.#services.list() as Service[], slices: this.#slices.list() as EndpointSlice[], nodeName: this.#ctx?.nodeName ?? "" });
    const r = render(ports, {
      table: this.config.table,
      masqueradeMark: this.config.masqueradeMark,
      nodePortAddresses: this.config.nodePortAddresses,
      masqueradeAll: this.config.masqueradeAll,
      ...(this.#previous ? { previous: this.#previous } : {}),
    });
    try {
      await runNft(this.#nftPath!, ["-f", "-"], r.text);
    } catch (e) {
      this.#previous = undefined;
      throw e;
    }
    this.#previous = r.state;
    this.lastSync = { ms: Math.round(performance.now() - t0), servicePorts: r.stats.servicePorts, endpoints: r.stats.endpoints, bytes: r.text.length };
    this.#log?.debug({ table: this.config.table, ...this.lastSync }, "network proxy synced");
    if (this.#again) {
      this.#again = false;
      this.#schedule();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#resync);
    for (const u of this.#unsubscribe.splice(0)) u();
    await this.#running?.catch(() => undefined);
    this.#previous = undefined;
    if (this.#nftPath) {
      await runNft(this.#nftPath, ["-f", "-"], renderDelete(this.config.table)).catch((e) =>
        this.#log?.warn({ table: this.config.table, err: (e as Error).message }, "could not delete the network proxy's nftables table"),
      );
    }
  }
}
