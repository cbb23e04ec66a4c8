/**
 * @module Test helpers for code built on the client (not part of the public
 * surface): `FaultyFetch` wraps a transport to record requests, inject
 * failures (a Status answer or a network error) and end open watch streams
 * the way a server timeout or a dropped connection would.
 */
import type { FetchFn } from "./fetch-client.ts";

export interface Fault {
  /** Which requests fail; default every request. */
  match?: (req: Request, url: URL) => boolean;
  /** How many matching requests fail; default 1. `Infinity` until `heal()`. */
  times?: number;
  /** Answer with this HTTP status and a Status body of this reason... */
  status?: { code: number; reason: string; message?: string; retryAfterSeconds?: number };
  /** ...or throw as fetch does when the connection fails. */
  network?: boolean;
}

export interface RecordedRequest {
  method: string;
  url: URL;
}

/** Is this a watch request? */
export function isWatch(_req: { method: string }, url: URL): boolean {
  const w = url.searchParams.get("watch");
  return w !== null && w !== "0" && w !== "false";
}

/** Is this a list (a GET of a collection without watch)? */
export function isList(req: { method: string }, url: URL): boolean {
  return req.method === "GET" && !isWatch(req, url) && /\/(api\/v1|apis\/[^/]+\/[^/]+)(\/namespaces\/[^/]+)?\/[^/]+$/.test(url.pathname);
}

export class FaultyFetch {
  readonly requests: RecordedRequest[] = [];
  readonly #inner: FetchFn;
  #faults: (Fault & { left: number })[] = [];
  readonly #openWatches = new Set<() => void>();

  constructor(inner: FetchFn) {
    this.#inner = inner;
  }

  /** The wrapped transport: pass it to `inProcessClient` or `httpClient({ fetch })`. */
  readonly fetch: FetchFn = async (req) => {
    const url = new URL(req.url);
    this.requests.push({ method: req.method, url });
    const fault = this.#faults.find((f) => f.left > 0 && (f.match ?? (() => true))(req, url));
    if (fault) {
      fault.left--;
      if (fault.network) throw new TypeError("fetch failed: connection refused (injected)");
      const s = fault.status!;
      const body = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: s.message ?? `injected ${s.reason}`, reason: s.reason, code: s.code };
      return new Response(JSON.stringify(body), {
        status: s.code,
        headers: { "content-type": "application/json", ...(s.retryAfterSeconds ? { "retry-after": String(s.retryAfterSeconds) } : {}) },
      });
    }
    const res = await this.#inner(req);
    if (!isWatch(req, url) || !res.ok || !res.body) return res;
    return this.#endable(res);
  };

  /** Adds a fault; it applies to the next matching requests. */
  fail(fault: Fault): void {
    this.#faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Removes every fault. */
  heal(): void {
    this.#faults = [];
  }

  /** Ends every open watch response cleanly, as a server-side timeout does. */
  endWatches(): void {
    for (const end of [...this.#openWatches]) end();
  }

  get openWatches(): number {
    return this.#openWatches.size;
  }

  /** Requests so far that match. */
  count(match: (req: RecordedRequest) => boolean): number {
    return this.requests.filter(match).length;
  }

  /** A copy of `res` whose body `endWatches()` can close. */
  #endable(res: Response): Response {
    const reader = res.body!.getReader();
    const open = this.#openWatches;
    let ended = false;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const end = () => {
      if (ended) return;
      ended = true;
      open.delete(end);
      try {
        controller.close();
      } catch {
        /* already closed */
      }
      reader.cancel().catch(() => {});
    };
    open.add(end);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
      async pull(c) {
        try {
          const { done, value } = await reader.read();
          if (ended) return;
          if (done) end();
          else c.enqueue(value);
        } catch (e) {
          if (!ended) {
            ended = true;
            open.delete(end);
            c.error(e);
          }
        }
      },
      cancel() {
        end();
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  }
}
