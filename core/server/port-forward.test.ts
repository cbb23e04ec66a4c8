import { expect, test } from "bun:test";
import zlib from "node:zlib";
import { type PortConnection, PortForwardSession, type PortSink } from "./port-forward.ts";
import {
  decodeHeaderBlock,
  encodeData,
  encodeGoAway,
  encodeHeaderBlock,
  encodePing,
  encodeRstStream,
  encodeSynStream,
  encodeWindowUpdate,
  FLAG_FIN,
  FrameReader,
  FrameType,
  GoAwayStatus,
  HEADER_DICTIONARY,
  HeaderInflater,
  type RawFrame,
  readGoAway,
  readPing,
  readRstStream,
  readSynReply,
  RstStatus,
} from "./spdy.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

/** kubectl's side: streams with compressed headers (as spdystream compresses them), and what the session sent back. */
class FakeKubectl {
  #deflate = zlib.createDeflate({ dictionary: Buffer.from(HEADER_DICTIONARY), level: 9 });
  #out: Buffer[] = [];
  #reader = new FrameReader();
  #inflater = new HeaderInflater();
  received: RawFrame[] = [];
  replies: { streamId: number; headers: Map<string, string[]> }[] = [];
  closed = false;
  dials: { port: number; sink: PortSink; written: string[]; closed: boolean }[] = [];
  errors: string[] = [];
  session: PortForwardSession;

  constructor(opts: { pairTimeoutMs?: number; chunk?: number } = {}) {
    this.#deflate.on("data", (c: Buffer) => this.#out.push(c));
    this.session = new PortForwardSession({
      send: (b) => {
        for (const f of this.#reader.push(b)) {
          this.received.push(f);
          if (f.kind === "control" && f.type === FrameType.SynReply) {
            const r = readSynReply(f.payload);
            void this.#inflater.inflate(r.headerBlock).then((h) => this.replies.push({ streamId: r.streamId, headers: decodeHeaderBlock(h) }));
          }
        }
      },
      close: () => (this.closed = true),
      dial: (port, sink) => {
        const d = { port, sink, written: [] as string[], closed: false };
        this.dials.push(d);
        const conn: PortConnection = { write: (b) => d.written.push(text(b)), close: () => (d.closed = true) };
        return conn;
      },
      onError: (m) => this.errors.push(m),
      ...(opts.pairTimeoutMs ? { pairTimeoutMs: opts.pairTimeoutMs } : {}),
    });
  }

  #compress(block: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve) => {
      this.#deflate.write(block);
      this.#deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        const r = Buffer.concat(this.#out);
        this.#out = [];
        resolve(new Uint8Array(r));
      });
    });
  }

  async synStream(streamId: number, headers: [string, string][], flags = 0): Promise<Uint8Array> {
    return encodeSynStream({ streamId, flags, headerBlock: await this.#compress(encodeHeaderBlock(headers)) });
  }

  /** Opens the error and data streams of one request as kubectl does (error first, half-closed at once). */
  async open(requestId: number, port: number, firstStream: number): Promise<Uint8Array> {
    const h = (type: string): [string, string][] => [["streamtype", type], ["port", String(port)], ["requestid", String(requestId)]];
    return Buffer.concat([await this.synStream(firstStream, h("error")), encodeData(firstStream, new Uint8Array(0), FLAG_FIN), await this.synStream(firstStream + 2, h("data"))]);
  }

  data(streamId: number): { text: string; fin: boolean } {
    const fs = this.received.filter((f): f is Extract<RawFrame, { kind: "data" }> => f.kind === "data" && f.streamId === streamId);
    return { text: fs.map((f) => text(f.data)).join(""), fin: fs.some((f) => (f.flags & FLAG_FIN) !== 0) };
  }

  control(type: number): Uint8Array[] {
    return this.received.filter((f): f is Extract<RawFrame, { kind: "control" }> => f.kind === "control" && f.type === type).map((f) => f.payload);
  }
}

/** Waits for the session's asynchronous frame handling (header inflation) to get somewhere. */
async function until(what: string, f: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

test("a request's two streams get replies, one pod connection, and bytes both ways; the pod closing finishes both streams", async () => {
  const k = new FakeKubectl();
  k.session.receive(await k.open(0, 8080, 1));
  await until("the dial", () => k.dials.length === 1);
  await until("two replies", () => k.replies.length === 2);
  expect(k.replies.map((r) => [r.streamId, r.headers.size])).toEqual([
    [1, 0],
    [3, 0],
  ]);
  expect(k.dials[0]!.port).toBe(8080);
  k.session.receive(encodeData(3, bytes("GET / HTTP/1.0\r\n\r\n")));
  k.session.receive(encodeData(1, bytes("ignored: the error stream carries nothing to the pod")));
  // kubectl's FIN on the data stream is not a close: the answer still comes back.
  k.session.receive(encodeData(3, new Uint8Array(0), FLAG_FIN));
  await until("the write", () => k.dials[0]!.written.length === 1);
  expect(k.dials[0]!.written).toEqual(["GET / HTTP/1.0\r\n\r\n"]);
  expect(k.dials[0]!.closed).toBe(false);
  k.dials[0]!.sink.data(bytes("HTTP/1.0 200 OK\r\n\r\nhi"));
  k.dials[0]!.sink.end();
  expect(k.data(3)).toEqual({ text: "HTTP/1.0 200 OK\r\n\r\nhi", fin: true });
  expect(k.data(1)).toEqual({ text: "", fin: true });
  expect(k.dials[0]!.closed).toBe(true);
  expect(k.session.activeRequests).toBe(0);
  expect(k.closed).toBe(false); // the tunnel stays for the next connection
  k.session.end();
});

test("a failed forward is written to the error stream, and both streams end", async () => {
  const k = new FakeKubectl();
  k.session.receive(await k.open(0, 9999, 1));
  await until("the dial", () => k.dials.length === 1);
  k.dials[0]!.sink.error("error forwarding port 9999 to pod web: connection refused");
  k.dials[0]!.sink.end(); // ignored after the error
  expect(k.data(1)).toEqual({ text: "error forwarding port 9999 to pod web: connection refused", fin: true });
  expect(k.data(3)).toEqual({ text: "", fin: true });
  expect(k.received.filter((f) => f.kind === "data" && f.streamId === 3 && (f.flags & FLAG_FIN) !== 0).length).toBe(1);
  expect(k.dials[0]!.closed).toBe(true);
  expect(k.errors).toEqual(["error forwarding port 9999 to pod web: connection refused"]);
  k.session.end();
});

test("concurrent requests on several ports, fed one byte at a time", async () => {
  const k = new FakeKubectl();
  const wire = Buffer.concat([await k.open(0, 80, 1), await k.open(1, 443, 5), encodeData(3, bytes("to-80")), encodeData(7, bytes("to-443"))]);
  for (const b of wire) k.session.receive(Uint8Array.of(b));
  await until("two dials and their writes", () => k.dials.length === 2 && k.dials.every((d) => d.written.length === 1));
  expect(k.dials.map((d) => [d.port, d.written.join("")])).toEqual([
    [80, "to-80"],
    [443, "to-443"],
  ]);
  k.dials[1]!.sink.data(bytes("from-443"));
  expect(k.data(7).text).toBe("from-443");
  expect(k.data(3).text).toBe("");
  expect(k.session.activeRequests).toBe(2);
  k.session.end();
  expect(k.dials.every((d) => d.closed)).toBe(true);
});

test("pings from kubectl are answered with their id; the session sends none of its own", async () => {
  const k = new FakeKubectl();
  k.session.receive(Buffer.concat([encodePing(1), encodePing(3), encodePing(2), encodeWindowUpdate(0, 1000)]));
  await until("two pongs", () => k.control(FrameType.Ping).length === 2);
  expect(k.control(FrameType.Ping).map((p) => readPing(p).id)).toEqual([1, 3]);
  k.session.end();
});

test("bad streams are reset: unknown type, bad port, a second data stream, an even or reused id", async () => {
  const k = new FakeKubectl();
  k.session.receive(await k.synStream(1, [["streamtype", "bogus"], ["port", "80"], ["requestid", "0"]]));
  k.session.receive(await k.synStream(3, [["streamtype", "data"], ["port", "0"], ["requestid", "0"]]));
  k.session.receive(await k.synStream(5, [["streamtype", "data"], ["port", "80"], ["requestid", "7"]]));
  k.session.receive(await k.synStream(7, [["streamtype", "data"], ["port", "80"], ["requestid", "7"]]));
  k.session.receive(await k.synStream(4, [["streamtype", "error"], ["port", "80"], ["requestid", "8"]]));
  k.session.receive(await k.synStream(5, [["streamtype", "error"], ["port", "80"], ["requestid", "9"]]));
  await until("five resets", () => k.control(FrameType.RstStream).length === 5);
  expect(k.control(FrameType.RstStream).map((p) => readRstStream(p))).toEqual([1, 3, 7, 4, 5].map((streamId) => ({ streamId, status: RstStatus.ProtocolError })));
  expect(k.control(FrameType.SynReply).map((p) => readSynReply(p).streamId)).toEqual([5]);
  expect(k.dials).toEqual([]);
  expect(k.errors).toContain('invalid stream type "bogus"');
  k.session.end();
});

test("without a request id, streams pair by id (error n, data n + 2)", async () => {
  const k = new FakeKubectl();
  k.session.receive(await k.synStream(1, [["streamtype", "error"], ["port", "81"]]));
  k.session.receive(await k.synStream(3, [["streamtype", "data"], ["port", "81"]]));
  await until("the dial", () => k.dials.length === 1);
  expect(k.dials[0]!.port).toBe(81);
  k.session.end();
});

test("kubectl resetting a stream closes its pod connection", async () => {
  const k = new FakeKubectl();
  k.session.receive(await k.open(0, 80, 1));
  await until("the dial", () => k.dials.length === 1);
  k.session.receive(encodeRstStream(3, RstStatus.Cancel));
  await until("the close", () => k.dials[0]!.closed);
  expect(k.session.activeRequests).toBe(0);
  k.dials[0]!.sink.data(bytes("late")); // dropped
  expect(k.data(3).text).toBe("");
  k.session.end();
});

test("GOAWAY from kubectl ends the session and every pod connection", async () => {
  const k = new FakeKubectl();
  k.session.receive(await k.open(0, 80, 1));
  await until("the dial", () => k.dials.length === 1);
  k.session.receive(encodeGoAway(0, GoAwayStatus.Ok));
  await until("the close", () => k.closed);
  expect(k.dials[0]!.closed).toBe(true);
});

test("a protocol error (undecodable headers, wrong version) answers GOAWAY PROTOCOL_ERROR and closes", async () => {
  const k = new FakeKubectl();
  k.session.receive(encodeSynStream({ streamId: 1, headerBlock: bytes("not compressed") }));
  await until("the close", () => k.closed);
  expect(k.control(FrameType.GoAway).map((p) => readGoAway(p))).toEqual([{ lastGoodStreamId: 0, status: GoAwayStatus.ProtocolError }]);
  expect(k.errors[0]).toMatch(/SPDY protocol error: header decompression/);

  const v2 = new FakeKubectl();
  const frame = encodePing(1);
  frame[1] = 2; // version 2
  v2.session.receive(frame);
  await until("the close", () => v2.closed);
  expect(v2.errors[0]).toBe("SPDY protocol error: unsupported SPDY version 2");
});

test("a request whose second stream never comes is reset after the timeout", async () => {
  const k = new FakeKubectl({ pairTimeoutMs: 30 });
  k.session.receive(await k.synStream(1, [["streamtype", "error"], ["port", "80"], ["requestid", "0"]]));
  await until("the reset", () => k.control(FrameType.RstStream).length === 1);
  expect(readRstStream(k.control(FrameType.RstStream)[0]!)).toEqual({ streamId: 1, status: RstStatus.Cancel });
  expect(k.session.activeRequests).toBe(0);
  expect(k.dials).toEqual([]);
  k.session.end();
});
