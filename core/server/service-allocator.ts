/**
 * @module ClusterIP and NodePort allocation for Services (kube-apiserver's
 * service REST allocators). Bitmaps in memory, rebuilt from the stored
 * Services at start-up (kube-apiserver's repair loop does the same), so
 * allocations survive restarts. One API server owns allocation: servers
 * sharing a store must not create Services concurrently (documented in the
 * server README).
 *
 * - Dynamic ClusterIPs come from the upper band of the range; the lower band
 *   (`min(max(16, size/16), 256)` addresses, KEP-3070) is left for requested
 *   IPs such as the DNS service's. The range's first usable address belongs
 *   to the `kubernetes` Service.
 * - A requested IP or port is honoured when free and in range, else refused
 *   with 422 Invalid and upstream's message.
 * - `allocate` returns a reservation: `commit` once the write is stored,
 *   `rollback` when it fails, so a failed create leaks nothing.
 */
import { ApiError, errors, type StatusCause } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";

export interface ServiceAllocatorOptions {
  /** IPv4 CIDR; default 10.96.0.0/12 (kubeadm's). */
  serviceCidr?: string;
  /** Inclusive; default 30000–32767. */
  nodePortRange?: [number, number];
  /** Random source (tests). */
  random?: () => number;
}

interface Spec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: { nodePort?: number; port?: number; protocol?: string }[];
}

function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]!;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** A set of small integers 0..size-1. */
class Bitmap {
  readonly #bits: Uint8Array;
  #used = 0;
  constructor(readonly size: number) {
    this.#bits = new Uint8Array(Math.ceil(size / 8));
  }
  has(i: number): boolean {
    return (this.#bits[i >> 3]! & (1 << (i & 7))) !== 0;
  }
  set(i: number): void {
    if (!this.has(i)) this.#used++;
    this.#bits[i >> 3]! |= 1 << (i & 7);
  }
  clear(i: number): void {
    if (this.has(i)) this.#used--;
    this.#bits[i >> 3]! &= ~(1 << (i & 7));
  }
  get used(): number {
    return this.#used;
  }
  /** A free index in [from, to), starting at a random offset; -1 if none. */
  freeIn(from: number, to: number, random: () => number): number {
    const n = to - from;
    if (n <= 0) return -1;
    const start = Math.floor(random() * n);
    for (let k = 0; k < n; k++) {
      const i = from + ((start + k) % n);
      if (!this.has(i)) return i;
    }
    return -1;
  }
}

function needsNodePorts(spec: Spec | undefined): boolean {
  return spec?.type === "NodePort" || spec?.type === "LoadBalancer";
}

export interface Reservation {
  commit(): void;
  rollback(): void;
}

const NOOP: Reservation = { commit() {}, rollback() {} };

function invalid(name: string, causes: StatusCause[]): ApiError {
  return errors.invalid({ kind: "Service", group: "", name, causes });
}

export class ServiceAllocator {
  readonly cidr: string;
  readonly #base: number;
  readonly #ips: Bitmap;
  readonly #lowBand: number;
  readonly #ports: Bitmap;
  readonly #portBase: number;
  readonly #portRange: [number, number];
  readonly #random: () => number;
  /** Which Service (uid) holds an IP / port, so a late release cannot free a value someone else took since. */
  readonly #ipOwner = new Map<number, string>();
  readonly #portOwner = new Map<number, string>();

  constructor(opts: ServiceAllocatorOptions = {}) {
    this.cidr = opts.serviceCidr ?? "10.96.0.0/12";
    const m = /^([\d.]+)\/(\d{1,2})$/.exec(this.cidr);
    const net = m ? ipToInt(m[1]!) : undefined;
    const bits = m ? Number(m[2]) : NaN;
    if (net === undefined || !(bits >= 8 && bits <= 30)) throw new Error(`invalid service CIDR ${JSON.stringify(this.cidr)} (want IPv4 a.b.c.d/8..30)`);
    const size = 2 ** (32 - bits);
    this.#base = (net & ~(size - 1)) >>> 0;
    // Index 0 = network address and size-1 = broadcast are never handed out.
    this.#ips = new Bitmap(size);
    this.#ips.set(0);
    this.#ips.set(size - 1);
    this.#lowBand = Math.min(Math.max(16, Math.floor(size / 16)), 256);
    this.#portRange = opts.nodePortRange ?? [30000, 32767];
    this.#portBase = this.#portRange[0];
    this.#ports = new Bitmap(this.#portRange[1] - this.#portRange[0] + 1);
    this.#random = opts.random ?? Math.random;
  }

  /** The address the `kubernetes` Service gets: the first usable one. */
  get kubernetesServiceIP(): string {
    return intToIp(this.#base + 1);
  }

  /** Marks what the stored Services already hold. */
  rebuild(services: readonly KubeObject[]): void {
    for (const s of services) this.observe(s);
  }

  /** Marks what one stored Service holds (start-up, and as its events arrive). */
  observe(s: KubeObject): void {
    const uid = s.metadata.uid ?? "";
    for (const ip of this.#ipsOf(s.spec as Spec)) {
      const i = this.#ipIndex(ip);
      if (i === undefined) continue;
      this.#ips.set(i);
      this.#ipOwner.set(i, uid);
    }
    if (!needsNodePorts(s.spec as Spec | undefined)) return;
    for (const p of (s.spec as Spec | undefined)?.ports ?? []) {
      const i = p.nodePort ? this.#portIndex(p.nodePort) : undefined;
      if (i === undefined) continue;
      this.#ports.set(i);
      this.#portOwner.set(i, uid);
    }
  }

  get allocatedIPs(): number {
    return this.#ips.used - 2;
  }

  get allocatedNodePorts(): number {
    return this.#ports.used;
  }

  /**
   * Fills in (or checks) `spec.clusterIP(s)` and node ports of `obj` — a
   * create when `old` is undefined, else an update (type changes allocate
   * or release). Throws Invalid for a taken or out-of-range request. Nothing
   * is held until `commit`; `rollback` returns what was taken.
   */
  allocate(obj: KubeObject, old?: KubeObject, dryRun = false): Reservation {
    const name = obj.metadata.name ?? "";
    const spec = (obj.spec ??= {}) as Spec;
    const oldSpec = (old?.spec ?? {}) as Spec;
    const takenIps: number[] = [];
    const takenPorts: number[] = [];
    const releaseIps: number[] = [];
    const releasePorts: number[] = [];
    const causes: StatusCause[] = [];

    // ---- cluster IP
    const oldIps = new Set(this.#ipsOf(oldSpec));
    const wantsIP = spec.type !== "ExternalName" && spec.clusterIP !== "None";
    if (wantsIP) {
      const requested = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
      if (requested.length === 0) {
        const i = this.#ips.freeIn(this.#lowBand, this.#ips.size - 1, this.#random);
        const j = i >= 0 ? i : this.#ips.freeIn(2, this.#lowBand, this.#random);
        if (j < 0) throw new ApiError({ reason: "InternalError", message: `Internal error occurred: failed to allocate a serviceIP: range is full` });
        takenIps.push(j);
        spec.clusterIP = intToIp(this.#base + j);
        spec.clusterIPs = [spec.clusterIP];
      } else {
        requested.forEach((ip, k) => {
          if (oldIps.has(ip)) return;
          const i = this.#ipIndex(ip);
          const field = `spec.clusterIPs[${k}]`;
          if (i === undefined || i === 0 || i === this.#ips.size - 1) {
            causes.push({
              reason: "FieldValueInvalid",
              field,
              message: `Invalid value: ${JSON.stringify(ip)}: failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr}`,
            });
          } else if (this.#ips.has(i) || takenIps.includes(i)) {
            causes.push({ reason: "FieldValueInvalid", field, message: `Invalid value: ${JSON.stringify(ip)}: failed to allocate IP ${ip}: provided IP is already allocated` });
          } else takenIps.push(i);
        });
      }
    }
    const newIps = new Set(wantsIP ? this.#ipsOf(spec) : []);
    for (const ip of oldIps) {
      const i = this.#ipIndex(ip);
      if (!newIps.has(ip) && i !== undefined) releaseIps.push(i);
    }

    // ---- node ports
    const oldPorts = new Set((oldSpec.ports ?? []).map((p) => p.nodePort ?? 0).filter((n) => n > 0));
    const needsPorts = needsNodePorts(spec);
    if (needsPorts) {
      (spec.ports ?? []).forEach((p, k) => {
        const field = `spec.ports[${k}].nodePort`;
        if (!p.nodePort) {
          const i = this.#freePort(takenPorts);
          if (i < 0) {
            causes.push({ reason: "FieldValueInvalid", field, message: `Invalid value: 0: failed to allocate a nodePort: range is full` });
            return;
          }
          takenPorts.push(i);
          p.nodePort = this.#portBase + i;
          return;
        }
        if (oldPorts.has(p.nodePort)) return;
        const i = this.#portIndex(p.nodePort);
        if (i === undefined) {
          causes.push({
            reason: "FieldValueInvalid",
            field,
            message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${this.#portRange[0]}-${this.#portRange[1]}`,
          });
        } else if (this.#ports.has(i) || takenPorts.includes(i)) {
          // The same node port on two protocols of one Service is allowed, as upstream.
          const sameService = (spec.ports ?? []).some((q, qk) => qk < k && q.nodePort === p.nodePort && (q.protocol ?? "TCP") !== (p.protocol ?? "TCP"));
          if (!sameService) causes.push({ reason: "FieldValueInvalid", field, message: `Invalid value: ${p.nodePort}: provided port is already allocated` });
        } else takenPorts.push(i);
      });
    }
    const newPorts = new Set(needsPorts ? (spec.ports ?? []).map((p) => p.nodePort ?? 0) : []);
    for (const n of oldPorts) {
      const i = this.#portIndex(n);
      if (!newPorts.has(n) && i !== undefined) releasePorts.push(i);
    }

    if (causes.length) throw invalid(name, causes);
    if (dryRun) return NOOP;
    const uid = obj.metadata.uid ?? "";
    // Take now (so concurrent creates cannot be handed the same values), release old on commit.
    for (const i of takenIps) {
      this.#ips.set(i);
      this.#ipOwner.set(i, uid);
    }
    for (const i of takenPorts) {
      this.#ports.set(i);
      this.#portOwner.set(i, uid);
    }
    let done = false;
    return {
      commit: () => {
        if (done) return;
        done = true;
        for (const i of releaseIps) this.#releaseIp(i, uid);
        for (const i of releasePorts) this.#releasePort(i, uid);
      },
      rollback: () => {
        if (done) return;
        done = true;
        for (const i of takenIps) this.#releaseIp(i, uid);
        for (const i of takenPorts) this.#releasePort(i, uid);
      },
    };
  }

  #releaseIp(i: number, uid: string): void {
    const owner = this.#ipOwner.get(i);
    if (owner !== undefined && owner !== uid) return;
    this.#ips.clear(i);
    this.#ipOwner.delete(i);
  }

  #releasePort(i: number, uid: string): void {
    const owner = this.#portOwner.get(i);
    if (owner !== undefined && owner !== uid) return;
    this.#ports.clear(i);
    this.#portOwner.delete(i);
  }

  /** Frees what a deleted Service held (only what it still owns: releasing twice is harmless). */
  release(obj: KubeObject): void {
    const spec = (obj.spec ?? {}) as Spec;
    const uid = obj.metadata.uid ?? "";
    for (const ip of this.#ipsOf(spec)) {
      const i = this.#ipIndex(ip);
      if (i !== undefined && i !== 0 && i !== this.#ips.size - 1) this.#releaseIp(i, uid);
    }
    for (const p of spec.ports ?? []) {
      const i = p.nodePort ? this.#portIndex(p.nodePort) : undefined;
      if (i !== undefined) this.#releasePort(i, uid);
    }
  }

  #ipsOf(spec: Spec | undefined): string[] {
    if (!spec || spec.clusterIP === "None") return [];
    return spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  }

  #ipIndex(ip: string): number | undefined {
    const n = ipToInt(ip);
    if (n === undefined) return undefined;
    const i = n - this.#base;
    return i >= 0 && i < this.#ips.size ? i : undefined;
  }

  #portIndex(port: number): number | undefined {
    const i = port - this.#portBase;
    return Number.isInteger(i) && i >= 0 && i < this.#ports.size ? i : undefined;
  }

  #freePort(taken: number[]): number {
    for (let tries = 0; tries < 8; tries++) {
      const i = this.#ports.freeIn(0, this.#ports.size, this.#random);
      if (i < 0) return -1;
      if (!taken.includes(i)) return i;
    }
    for (let i = 0; i < this.#ports.size; i++) if (!this.#ports.has(i) && !taken.includes(i)) return i;
    return -1;
  }
}
