/**
 * @module A watch response read as it arrives: newline-delimited JSON events
 * (a line may be split across chunks, or several may share one), each
 * yielded as a `WatchEvent`. An `ERROR` event throws the ApiError its Status
 * describes; `close()` aborts the request and ends iteration without error.
 */
import { ApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import type { ChannelEvent } from "../api/object-channel.ts";
import { errorFromResponse, errorFromStatus, unavailable } from "./status.ts";
import type { WatchEvent, WatchEventType, WatchStream } from "./types.ts";

const TYPES: ReadonlySet<string> = new Set<WatchEventType>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);

/** Splits a byte stream into complete lines (UTF-8 safe across chunk boundaries). Blank lines are dropped. */
export class LineSplitter {
  #decoder = new TextDecoder();
  #partial = "";

  /** The lines completed by this chunk. */
  push(chunk: Uint8Array): string[] {
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    const parts = text.split("\n");
    this.#partial = parts.pop()!;
    return parts.filter((l) => l.trim() !== "");
  }

  /** Whatever is left once the stream has ended (a last line without its newline). */
  end(): string[] {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = "";
    return rest.trim() === "" ? [] : [rest];
  }
}

/** Parses one line of a watch stream. Throws the ApiError of an ERROR event or of a malformed line. */
export function parseWatchLine<T extends KubeObject>(line: string): WatchEvent<T> {
  let ev: { type?: unknown; object?: unknown };
  try {
    ev = JSON.parse(line) as typeof ev;
  } catch {
    throw new ApiError({ reason: "InternalError", message: `malformed watch event: ${line.slice(0, 200)}` });
  }
  if (ev?.type === "ERROR") {
    const code = (ev.object as { code?: unknown } | undefined)?.code;
    throw errorFromStatus(ev.object, typeof code === "number" ? code : 500);
  }
  if (typeof ev?.type !== "string" || !TYPES.has(ev.type) || ev.object === null || typeof ev.object !== "object") {
    throw new ApiError({ reason: "InternalError", message: `unexpected watch event: ${line.slice(0, 200)}` });
  }
  return { type: ev.type as WatchEventType, object: ev.object as T };
}

/** Opens the watch request; must reject with an ApiError (or an AbortError once aborted). */
export type OpenWatch = (signal: AbortSignal) => Promise<Response>;

/** A `WatchStream` over one HTTP-shaped response. The request starts at construction. */
export class ResponseWatchStream<T extends KubeObject = KubeObject> implements WatchStream<T> {
  readonly #abort = new AbortController();
  readonly #response: Promise<Response>;
  readonly #target: string;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #closed = false;
  #iterated = false;

  readonly #objects: ChannelEvent[] | undefined;
  readonly #strip: boolean;

  /**
   * `objects`: the queue an in-process request's object sink fills
   * (core/api/object-channel.ts); its events are taken, in order, whenever a
   * chunk arrives and before that chunk's lines.
   */
  constructor(open: OpenWatch, target: string, objects?: ChannelEvent[], stripManagedFields = false) {
    this.#target = target;
    this.#objects = objects;
    this.#strip = stripManagedFields;
    this.#response = open(this.#abort.signal);
    // Failures surface when iterating; a stream never iterated must not leak a rejection.
    this.#response.catch(() => {});
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    // In-process responses ignore the request's signal: cancelling the body is what stops the server's watch.
    if (this.#reader) this.#reader.cancel().catch(() => {});
    else this.#response.then((r) => r.body?.cancel().catch(() => {}), () => {});
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent<T>, void, undefined> {
    if (this.#iterated) throw new Error("a watch stream can be iterated only once");
    this.#iterated = true;
    try {
      let res: Response;
      try {
        res = await this.#response;
      } catch (e) {
        if (this.#closed) return;
        throw e;
      }
      if (this.#closed) return;
      if (!res.ok) throw await errorFromResponse(res);
      if (!res.body) return;
      const reader = res.body.getReader();
      this.#reader = reader;
      if (this.#closed) {
        reader.cancel().catch(() => {});
        return;
      }
      const lines = new LineSplitter();
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (e) {
          if (this.#closed) return;
          throw e instanceof ApiError ? e : unavailable(this.#target, e);
        }
        if (this.#closed) return;
        const queued = this.#objects;
        if (queued && queued.length > 0) {
          const events = queued.splice(0);
          for (const e of events) {
            yield e as WatchEvent<T>;
            if (this.#closed) return;
          }
        }
        const batch = chunk.done ? lines.end() : lines.push(chunk.value);
        for (const line of batch) {
          const ev = parseWatchLine<T>(line);
          // A parsed line is this stream's own object: drop the field in place.
          if (this.#strip && ev.object.metadata?.managedFields !== undefined) delete ev.object.metadata.managedFields;
          yield ev;
          if (this.#closed) return;
        }
        if (chunk.done) return;
      }
    } finally {
      this.close();
    }
  }
}
