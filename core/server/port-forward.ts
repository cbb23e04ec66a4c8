/**
 * @module The server end of kubectl's port-forward protocol
 * (`portforward.k8s.io` over SPDY/3.1), independent of how its bytes travel
 * (kubectl 1.32 tunnels them in WebSocket binary messages, subprotocol
 * `SPDY/3.1+portforward.k8s.io`).
 *
 * For every local connection kubectl opens two streams with the headers
 * `streamtype: error|data`, `port` and `requestid`; each gets a SYN_REPLY.
 * Once both of a request's streams are there, `dial(port)` opens the
 * connection to the pod (the node agent), and bytes are copied: data stream
 * ⇄ connection. When the pod side ends, the data and error streams are
 * finished (FIN); a failure is written to the error stream first, which
 * kubectl prints. kubectl's FIN on the data stream (its local reader hit
 * EOF) is noted but not passed on: the agent's channel protocol has no
 * half-close, and the pod's answer must still come back.
 * Mirrors the kubelet's `portforward/httpstream.go`.
 */
import {
  decodeHeaderBlock,
  encodeData,
  encodeGoAway,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  encodeHeaderBlock,
  FLAG_FIN,
  FrameReader,
  FrameType,
  GoAwayStatus,
  HeaderDeflater,
  HeaderInflater,
  type RawFrame,
  readGoAway,
  readPing,
  readRstStream,
  readSynStream,
  RstStatus,
  SPDY_VERSION,
  SpdyProtocolError,
} from "./spdy.ts";

/** Where the pod side reports to; each method is called at most once per end, `data` any number of times before. */
export interface PortSink {
  data(bytes: Uint8Array): void;
  /** The forward failed (message for the user); nothing more follows. */
  error(message: string): void;
  /** The pod side closed the connection. */
  end(): void;
}

/** One connection to a pod port, as `dial` returns it. Writes before it is open are queued by it. */
export interface PortConnection {
  write(bytes: Uint8Array): void;
  close(): void;
}

export type PortDialer = (port: number, sink: PortSink) => PortConnection;

export interface PortForwardSessionOptions {
  /** Sends bytes to kubectl (one or more whole frames). */
  send(bytes: Uint8Array): void;
  /** Ends the transport (after a GOAWAY, a protocol error, or when kubectl went away). */
  close(): void;
  dial: PortDialer;
  /** How long a request may wait for its second stream (the kubelet's stream creation timeout). Default 30 s. */
  pairTimeoutMs?: number;
  /** Called with protocol errors and failed forwards (for the log). */
  onError?(message: string): void;
}

interface Pair {
  requestId: string;
  port: number;
  data?: number;
  error?: number;
  conn?: PortConnection;
  timer?: ReturnType<typeof setTimeout>;
  done: boolean;
}

export class PortForwardSession {
  #reader = new FrameReader();
  #inflater = new HeaderInflater();
  #deflater = new HeaderDeflater();
  #emptyHeaders = encodeHeaderBlock([]);
  #queue: Promise<void> = Promise.resolve();
  /** stream id → its request. */
  #streams = new Map<number, Pair>();
  #pairs = new Map<string, Pair>();
  #lastStreamId = 0;
  #closed = false;

  constructor(private readonly opts: PortForwardSessionOptions) {}

  /** Bytes from kubectl, in any chunking. */
  receive(bytes: Uint8Array): void {
    if (this.#closed) return;
    let frames: RawFrame[];
    try {
      frames = this.#reader.push(bytes);
    } catch (e) {
      this.#protocolError((e as Error).message);
      return;
    }
    for (const f of frames) {
      // Frames are handled one after another: a SYN_STREAM's headers decompress asynchronously and its DATA must wait.
      this.#queue = this.#queue.then(() => (this.#closed ? undefined : this.#handle(f))).catch((e) => this.#protocolError((e as Error).message));
    }
  }

  /** The transport ended: every pod connection is closed. */
  end(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pairs.values()) this.#finishPair(p);
    this.#pairs.clear();
    this.#streams.clear();
    this.#inflater.close();
  }

  /** Open requests (both streams not yet finished). */
  get activeRequests(): number {
    return this.#pairs.size;
  }

  async #handle(f: RawFrame): Promise<void> {
    if (f.kind === "data") return this.#onData(f.streamId, f.flags, f.data);
    if (f.version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${f.version}`);
    switch (f.type) {
      case FrameType.SynStream: {
        const s = readSynStream(f.payload);
        const headers = decodeHeaderBlock(await this.#inflater.inflate(s.headerBlock));
        return this.#onSynStream(s.streamId, headers);
      }
      case FrameType.SynReply:
      case FrameType.Headers:
        // We create no streams, so no replies are due; HEADERS carry nothing we use. Keep the inflater in step.
        await this.#inflater.inflate(f.payload.subarray(4));
        return;
      case FrameType.RstStream: {
        const pair = this.#streams.get(readRstStream(f.payload).streamId);
        if (pair) this.#closePair(pair);
        return;
      }
      case FrameType.Ping: {
        const { id } = readPing(f.payload);
        // Client pings are odd; answer them with the same id.
        if (id % 2 === 1) this.opts.send(encodePing(id));
        return;
      }
      case FrameType.GoAway:
        readGoAway(f.payload);
        this.#shutdown();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE (no flow control, as spdystream), and unknown types are ignored.
        return;
    }
  }

  #onSynStream(streamId: number, headers: Map<string, string[]>): void {
    const one = (k: string) => headers.get(k)?.[0];
    if (streamId === 0 || streamId % 2 === 0 || streamId <= this.#lastStreamId) {
      this.opts.send(encodeRstStream(streamId, RstStatus.ProtocolError));
      return;
    }
    this.#lastStreamId = streamId;
    const type = one("streamtype");
    const port = Number(one("port"));
    const reject = (why: string) => {
      this.opts.onError?.(why);
      this.opts.send(encodeRstStream(streamId, RstStatus.ProtocolError));
    };
    if (type !== "data" && type !== "error") return reject(`invalid stream type ${JSON.stringify(type ?? "")}`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return reject(`invalid port ${JSON.stringify(one("port") ?? "")}`);
    // Without a request id (protocol v1) the kubelet pairs by stream id: error stream n, data stream n + 2.
    const requestId = one("requestid") ?? String(type === "error" ? streamId : streamId - 2);
    let pair = this.#pairs.get(requestId);
    if (!pair) {
      pair = { requestId, port, done: false };
      this.#pairs.set(requestId, pair);
      const timeout = this.opts.pairTimeoutMs ?? 30_000;
      const p = pair;
      p.timer = setTimeout(() => {
        this.opts.onError?.(`timed out waiting for the second stream of request ${requestId}`);
        for (const id of [p.error, p.data]) if (id !== undefined) this.opts.send(encodeRstStream(id, RstStatus.Cancel));
        this.#closePair(p);
      }, timeout);
    }
    if (pair[type] !== undefined) return reject(`request ${requestId} has a second ${type} stream`);
    pair[type] = streamId;
    this.#streams.set(streamId, pair);
    this.opts.send(encodeSynReply(streamId, this.#deflater.compress(this.#emptyHeaders)));
    if (pair.data !== undefined && pair.error !== undefined) this.#start(pair);
  }

  #start(pair: Pair): void {
    clearTimeout(pair.timer);
    const dataId = pair.data!;
    const errorId = pair.error!;
    let ended = false;
    pair.conn = this.opts.dial(pair.port, {
      data: (bytes) => {
        if (!ended && !pair.done && !this.#closed && bytes.length > 0) this.opts.send(encodeData(dataId, bytes));
      },
      error: (message) => {
        if (ended || pair.done || this.#closed) return;
        ended = true;
        this.opts.onError?.(message);
        this.opts.send(encodeData(errorId, new TextEncoder().encode(message), FLAG_FIN));
        this.opts.send(encodeData(dataId, new Uint8Array(0), FLAG_FIN));
        this.#closePair(pair);
      },
      end: () => {
        if (ended || pair.done || this.#closed) return;
        ended = true;
        this.opts.send(encodeData(dataId, new Uint8Array(0), FLAG_FIN));
        this.opts.send(encodeData(errorId, new Uint8Array(0), FLAG_FIN));
        this.#closePair(pair);
      },
    });
  }

  #onData(streamId: number, _flags: number, data: Uint8Array): void {
    const pair = this.#streams.get(streamId);
    // Data for the error stream, or for a stream we reset or finished, goes nowhere.
    if (!pair || pair.done || streamId !== pair.data || data.length === 0) return;
    pair.conn?.write(data);
  }

  #closePair(pair: Pair): void {
    this.#finishPair(pair);
    this.#pairs.delete(pair.requestId);
    if (pair.data !== undefined) this.#streams.delete(pair.data);
    if (pair.error !== undefined) this.#streams.delete(pair.error);
  }

  #finishPair(pair: Pair): void {
    if (pair.done) return;
    pair.done = true;
    clearTimeout(pair.timer);
    pair.conn?.close();
  }

  #shutdown(): void {
    if (this.#closed) return;
    this.end();
    this.opts.close();
  }

  #protocolError(message: string): void {
    if (this.#closed) return;
    this.opts.onError?.(`SPDY protocol error: ${message}`);
    this.opts.send(encodeGoAway(this.#lastStreamId, GoAwayStatus.ProtocolError));
    this.#shutdown();
  }
}
