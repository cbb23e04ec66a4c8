/**
 * @module The DNS server: UDP and TCP on each listen address, answering the
 * cluster zone from `Zone` and forwarding every other name, byte for byte,
 * to the upstream resolvers (in order; the next one on timeout; SERVFAIL
 * when none answers) — over UDP, and again over TCP when a TCP client's
 * answer came back truncated. UDP answers larger than the client's limit (512 bytes,
 * or its EDNS payload size) come back truncated (TC) so the client retries
 * over TCP. Packets are encoded and decoded with `dns-packet`.
 */
import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server, Socket as TcpSocket } from "node:net";
import * as dns from "dns-packet";
import type { Logger } from "../../core/log.ts";
import type { Zone } from "./records.ts";

export interface HostPort {
  host: string;
  port: number;
}

export interface DnsServerOptions {
  zone: Zone;
  listen: HostPort[];
  upstream: HostPort[];
  /** Per upstream attempt. */
  forwardTimeoutMs?: number;
  /** Whether a client address is answered (acl.ts); others get REFUSED over UDP and a closed connection over TCP. Default: everyone. */
  allow?: (address: string) => boolean;
  log: Logger;
}

const RCODE_SERVFAIL = 2;
const RCODE_FORMERR = 1;
const RCODE_REFUSED = 5;

/** A DNS response to `query` with the given parts (rcode in the low flag bits). */
function respond(query: dns.DecodedPacket, rcode: number, parts: { answers?: dns.Answer[]; authorities?: dns.Answer[]; additionals?: dns.Answer[] }, authoritative: boolean): dns.Packet {
  const rd = query.flag_rd ? dns.RECURSION_DESIRED : 0;
  return {
    type: "response",
    id: query.id ?? 0,
    flags: rd | dns.RECURSION_AVAILABLE | (authoritative ? dns.AUTHORITATIVE_ANSWER : 0) | rcode,
    questions: query.questions ?? [],
    answers: parts.answers ?? [],
    authorities: parts.authorities ?? [],
    additionals: parts.additionals ?? [],
  };
}

function udpLimit(query: dns.DecodedPacket): number {
  const opt = query.additionals?.find((a) => a.type === "OPT") as { udpPayloadSize?: number } | undefined;
  return Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, 4096));
}

export class DnsServer {
  readonly #udp: Socket[] = [];
  readonly #tcp: Server[] = [];
  readonly #conns = new Set<TcpSocket>();
  #bound: HostPort[] = [];

  constructor(private readonly opts: DnsServerOptions) {}

  /** The addresses actually bound (port 0 in the config picks one: UDP and TCP share it). */
  get addresses(): HostPort[] {
    return this.#bound;
  }

  async start(): Promise<void> {
    for (const l of this.opts.listen) {
      const family = l.host.includes(":") ? "udp6" : "udp4";
      const udp = createSocket({ type: family, reuseAddr: false });
      await new Promise<void>((resolve, reject) => {
        udp.once("error", reject);
        udp.bind(l.port, l.host, () => {
          udp.off("error", reject);
          resolve();
        });
      });
      udp.on("message", (msg, rinfo) => void this.#onUdp(udp, msg, rinfo.address, rinfo.port));
      udp.on("error", (e) => this.opts.log.warn({ err: e.message }, "dns udp socket error"));
      this.#udp.push(udp);
      const port = udp.address().port;
      const tcp = createServer((sock) => this.#onTcp(sock));
      await new Promise<void>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(port, l.host, () => {
          tcp.off("error", reject);
          resolve();
        });
      });
      this.#tcp.push(tcp);
      this.#bound.push({ host: l.host, port });
    }
  }

  async stop(): Promise<void> {
    for (const c of this.#conns) c.destroy();
    await Promise.all(this.#udp.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await Promise.all(this.#tcp.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.#udp.length = 0;
    this.#tcp.length = 0;
    this.#bound = [];
  }

  async #onUdp(sock: Socket, msg: Buffer, address: string, port: number): Promise<void> {
    const out = this.opts.allow && !this.opts.allow(address) ? this.#refuse(msg, address) : await this.answer(msg, "udp");
    if (out) sock.send(out, port, address);
  }

  #refusedLogged = 0;
  /** REFUSED with the query's id and question, or nothing for what is not a query. Never larger than the query. */
  #refuse(msg: Buffer, address: string): Buffer | null {
    if (this.#refusedLogged++ % 1000 === 0) this.opts.log.warn({ client: address, refused: this.#refusedLogged }, "dns query from a source outside allowFrom refused");
    let query: dns.DecodedPacket;
    try {
      query = dns.decode(msg);
    } catch {
      return null;
    }
    if (query.type !== "query") return null;
    const out = dns.encode({ ...respond(query, RCODE_REFUSED, {}, false), additionals: [] });
    return out.length <= msg.length ? out : null;
  }

  #onTcp(sock: TcpSocket): void {
    if (this.opts.allow && !this.opts.allow(sock.remoteAddress ?? "")) {
      if (this.#refusedLogged++ % 1000 === 0) this.opts.log.warn({ client: sock.remoteAddress, refused: this.#refusedLogged }, "dns connection from a source outside allowFrom refused");
      sock.destroy();
      return;
    }
    this.#conns.add(sock);
    let buf = Buffer.alloc(0);
    sock.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.answer(Buffer.from(msg), "tcp").then((out) => {
          if (!out || sock.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(out.length);
          sock.write(Buffer.concat([head, out]));
        });
      }
    });
    sock.on("error", () => sock.destroy());
    sock.on("close", () => this.#conns.delete(sock));
    sock.setTimeout(10_000, () => sock.destroy());
  }

  /** The response bytes for one query, or null to drop it (not a query at all). */
  async answer(msg: Buffer, transport: "udp" | "tcp"): Promise<Buffer | null> {
    let query: dns.DecodedPacket;
    try {
      query = dns.decode(msg);
    } catch {
      if (msg.length < 12) return null;
      // Echo the id with FORMERR, as resolvers expect.
      const out = Buffer.alloc(12);
      msg.copy(out, 0, 0, 2);
      out.writeUInt16BE(0x8000 | RCODE_FORMERR, 2);
      return out;
    }
    if (query.type !== "query") return null;
    const q = query.questions?.[0];
    if (!q || query.questions!.length !== 1) return dns.encode(respond(query, RCODE_FORMERR, {}, false));
    if (!this.opts.zone.contains(q.name)) return this.#forward(msg, query, transport);
    const found = this.opts.zone.lookup(q);
    const out = dns.encode(respond(query, found.rcode, found, true));
    if (transport === "tcp" || out.length <= udpLimit(query)) return out;
    const truncated = respond(query, found.rcode, {}, true);
    truncated.flags! |= dns.TRUNCATED_RESPONSE;
    return dns.encode(truncated);
  }

  async #forward(msg: Buffer, query: dns.DecodedPacket, transport: "udp" | "tcp"): Promise<Buffer> {
    for (const up of this.opts.upstream) {
      const timeout = this.opts.forwardTimeoutMs ?? 2000;
      try {
        // UDP first; a truncated answer to a TCP client is asked again over TCP.
        const res = await udpExchange(up, msg, timeout);
        const truncated = res.length >= 4 && (res.readUInt16BE(2) & 0x0200) !== 0;
        return transport === "tcp" && truncated ? await tcpExchange(up, msg, timeout) : res;
      } catch (e) {
        this.opts.log.debug({ upstream: `${up.host}:${up.port}`, err: (e as Error).message }, "upstream did not answer");
      }
    }
    return dns.encode(respond(query, RCODE_SERVFAIL, {}, false));
  }
}

function udpExchange(to: HostPort, msg: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(to.host.includes(":") ? "udp6" : "udp4");
    const id = msg.readUInt16BE(0);
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error("timeout"));
    }, timeoutMs);
    sock.on("message", (res) => {
      if (res.length < 2 || res.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      sock.close();
      resolve(res);
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      sock.close();
      reject(e);
    });
    sock.send(msg, to.port, to.host);
  });
}

function tcpExchange(to: HostPort, msg: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = new TcpSocket();
    let buf = Buffer.alloc(0);
    const fail = (e: Error) => {
      sock.destroy();
      reject(e);
    };
    sock.setTimeout(timeoutMs, () => fail(new Error("timeout")));
    sock.on("error", fail);
    sock.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    sock.connect(to.port, to.host, () => {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([head, msg]));
    });
  });
}
