/**
 * @module What the transport knew about the connection a request came on.
 * `serve.ts` (and, for HTTPS on Bun, `serve-bun-tls.ts`) records it twice: keyed by the Request object (a WeakMap:
 * nothing on the wire can set it), and on the per-request `env` the runtime
 * passes beside it (under a symbol), because wrappers in front of the router
 * may hand on a new Request (hygiene.ts does, with the body read) but pass
 * `env` through. The authentication stage reads it (client certificates).
 */
import type { ConnectionInfo } from "./types.ts";

const connections = new WeakMap<Request, ConnectionInfo>();

/** The `env` property serve.ts puts the connection facts under. */
export const CONNECTION = Symbol.for("skiff.connection");

export function setRequestConnection(req: Request, info: ConnectionInfo): void {
  connections.set(req, info);
}

/** The connection facts of `req` (or of the `env` it came with); `{}` for in-process requests and plain HTTP. */
export function requestConnection(req: Request, env?: unknown): ConnectionInfo {
  const known = connections.get(req);
  if (known) return known;
  const e = env as { [CONNECTION]?: ConnectionInfo } | undefined;
  return (e && typeof e === "object" && e[CONNECTION]) || {};
}
