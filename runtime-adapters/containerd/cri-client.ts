/**
 * @module A thin promise client for CRI `runtime.v1` over containerd's unix
 * socket (@grpc/grpc-js + @grpc/proto-loader, the proto subset in
 * `cri.proto`). Field names arrive camelCased, enums as their names, int64 as
 * decimal strings. `NOT_FOUND` becomes `CriNotFound` so callers can map it to
 * the adapter contract's "null / already gone".
 */
import { createRequire } from "node:module";
import type * as grpc from "@grpc/grpc-js";
import type * as Loader from "@grpc/proto-loader";
import { packagePath } from "../../core/package-root.ts";

// gRPC loads on first use (≈40 ms at import): the adapter is in every server's plugin catalog, used only with --runtime containerd.
const require = createRequire(import.meta.url);
let grpcLib: typeof grpc | undefined;
function G(): typeof grpc {
  grpcLib ??= require("@grpc/grpc-js") as typeof grpc;
  return grpcLib;
}

/** Any CRI message as decoded (camelCase keys); untyped, as proto-loader gives no types. */
export type Msg = Record<string, any>;

export class CriError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
  ) {
    super(`${method}: ${details}`);
  }
}

/** The object (sandbox, container, image) does not exist. */
export class CriNotFound extends CriError {}

let packageDef: grpc.GrpcObject | undefined;
function criPackage(): grpc.GrpcObject {
  packageDef ??= G().loadPackageDefinition(
    (require("@grpc/proto-loader") as typeof Loader).loadSync(packagePath("runtime-adapters/containerd/cri.proto"), { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true }),
  );
  return packageDef;
}

type Ctor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;

export interface CallOptions {
  /** Milliseconds; default the client's `timeoutMs`. 0: none. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class CriClient {
  readonly #runtime: grpc.Client;
  readonly #image: grpc.Client;
  readonly #timeoutMs: number;

  constructor(
    readonly socket: string,
    opts: { timeoutMs?: number } = {},
  ) {
    const v1 = (criPackage().runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
    const address = `unix://${socket}`;
    const options: grpc.ChannelOptions = {
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
      // After containerd restarts, reconnect within seconds (grpc's default backoff grows to 120 s).
      "grpc.initial_reconnect_backoff_ms": 250,
      "grpc.max_reconnect_backoff_ms": 2_000,
    };
    this.#runtime = new (v1.RuntimeService as unknown as Ctor)(address, G().credentials.createInsecure(), options);
    this.#image = new (v1.ImageService as unknown as Ctor)(address, G().credentials.createInsecure(), options);
    this.#timeoutMs = opts.timeoutMs ?? 120_000;
  }

  /** A RuntimeService call. */
  runtime(method: string, req: Msg, opts: CallOptions = {}): Promise<Msg> {
    return this.#call(this.#runtime, method, req, opts);
  }

  /** An ImageService call. */
  image(method: string, req: Msg, opts: CallOptions = {}): Promise<Msg> {
    return this.#call(this.#image, method, req, opts);
  }

  #call(client: grpc.Client, method: string, req: Msg, opts: CallOptions): Promise<Msg> {
    const timeout = opts.timeoutMs ?? this.#timeoutMs;
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new CriError(method, G().status.CANCELLED, "aborted"));
      const callOpts: grpc.CallOptions = timeout > 0 ? { deadline: Date.now() + timeout } : {};
      const fn = (client as unknown as Record<string, (...a: unknown[]) => grpc.ClientUnaryCall>)[method]!;
      const call = fn.call(client, req, callOpts, (err: grpc.ServiceError | null, res: Msg) => {
        opts.signal?.removeEventListener("abort", onAbort);
        if (!err) return resolve(res);
        const details = err.details || err.message;
        reject(err.code === G().status.NOT_FOUND || /not found|does not exist/i.test(details) ? new CriNotFound(method, err.code, details) : new CriError(method, err.code, details));
      });
      const onAbort = () => call.cancel();
      opts.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  close(): void {
    this.#runtime.close();
    this.#image.close();
  }
}

/** Resolves with `undefined` when the call failed with NOT_FOUND. */
export async function orGone<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof CriNotFound) return undefined;
    throw e;
  }
}

/** CRI nanosecond timestamps (decimal strings) as Unix ms; 0 / absent → undefined. */
export function nsToMs(ns: string | number | undefined): number | undefined {
  if (ns === undefined || ns === "0" || ns === 0 || ns === "") return undefined;
  return Number(BigInt(ns) / 1_000_000n);
}
