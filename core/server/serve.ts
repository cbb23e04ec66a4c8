/**
 * @module Serving a fetch handler on the runtime at hand: `Bun.serve`,
 * `Deno.serve` or `@hono/node-server`. The one place that knows runtimes
 * (with `websocket.ts`, whose socket events Bun's server dispatches).
 */
import { BUN_WEBSOCKET } from "./websocket.ts";

/** `env` is what the runtime passes beside the request (Bun: its server, for WebSocket upgrades). */
export type FetchHandler = (req: Request, env?: unknown) => Response | Promise<Response>;

export interface Listening {
  /** The bound port (useful with port 0). */
  port: number;
  hostname: string;
  stop(): Promise<void>;
}

export interface ServeOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  fetch: FetchHandler;
}

interface BunLike {
  serve(o: { hostname: string; port: number; fetch: FetchHandler; idleTimeout?: number; websocket?: typeof BUN_WEBSOCKET }): {
    port: number;
    hostname: string;
    stop(closeActive?: boolean): void | Promise<void>;
  };
}
interface DenoLike {
  serve(
    o: { hostname: string; port: number; onListen?: (a: { port: number; hostname: string }) => void },
    h: FetchHandler,
  ): { addr: { port: number; hostname: string }; shutdown(): Promise<void> };
}

export function runtimeName(): "bun" | "deno" | "node" {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Bun ? "bun" : g.Deno ? "deno" : "node";
}

export async function serve(opts: ServeOptions): Promise<Listening> {
  const g = globalThis as { Bun?: BunLike; Deno?: DenoLike };
  if (g.Bun) {
    // idleTimeout 0: watches stay open for as long as their timeoutSeconds.
    const s = g.Bun.serve({ hostname: opts.hostname, port: opts.port, fetch: opts.fetch, idleTimeout: 0, websocket: BUN_WEBSOCKET });
    return { port: s.port, hostname: s.hostname, stop: async () => void (await s.stop(true)) };
  }
  if (g.Deno) {
    const s = g.Deno.serve({ hostname: opts.hostname, port: opts.port, onListen: () => {} }, opts.fetch);
    return { port: s.addr.port, hostname: s.addr.hostname, stop: () => s.shutdown() };
  }
  const { serve: nodeServe } = await import("@hono/node-server");
  return new Promise((resolve) => {
    const server = nodeServe({ fetch: opts.fetch, hostname: opts.hostname, port: opts.port }, (info) => {
      resolve({
        port: info.port,
        hostname: opts.hostname,
        stop: () =>
          new Promise<void>((r) => {
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}
