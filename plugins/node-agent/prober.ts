/**
 * @module Probes and lifecycle hooks, with the kubelet's semantics:
 *
 * - httpGet succeeds on a status from 200 to 399 (sent to the pod IP unless
 *   `host` is set, `User-Agent: kube-probe/1.32`), tcpSocket when a
 *   connection opens, exec when the command exits 0 — each within
 *   `timeoutSeconds` (default 1).
 * - A probe first runs `initialDelaySeconds` after the container started,
 *   then every `periodSeconds` (default 10). `failureThreshold` (3)
 *   consecutive failures flip it to failed, `successThreshold` (1) successes
 *   to succeeded.
 * - Until the startup probe has succeeded, liveness and readiness are not
 *   run; a failed startup or liveness probe gets the container killed and
 *   restarted per the restart policy. Readiness starts false (unless the
 *   container was ready before an agent restart) and never kills.
 * - gRPC probes are not supported: they count as succeeding, with a warning.
 */
import { connect } from "node:net";
import type { RuntimeAdapter } from "../../core/runtime/adapter.ts";
import type { Container, HttpGetAction, LifecycleHandler, Probe } from "./types.ts";

export type ProbeKind = "liveness" | "readiness" | "startup";

export interface ProbeTarget {
  runtime: RuntimeAdapter;
  containerId: string;
  /** The pod's IP now (probes go there unless the handler names a host). */
  podIP(): string | undefined;
  ports: Container["ports"];
}

export interface ProbeResult {
  ok: boolean;
  message?: string;
}

function resolvePort(port: number | string, ports: Container["ports"]): number {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = (ports ?? []).find((x) => x.name === port);
  if (!p) throw new Error(`port "${port}" not found in the container's ports`);
  return p.containerPort;
}

async function httpGet(h: HttpGetAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const host = h.host || target.podIP() || "127.0.0.1";
  const port = resolvePort(h.port, target.ports);
  const scheme = (h.scheme ?? "HTTP").toLowerCase();
  const path = h.path ? (h.path.startsWith("/") ? h.path : `/${h.path}`) : "/";
  const url = `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}${path}`;
  const headers = new Headers({ "User-Agent": "kube-probe/1.32", Accept: "*/*" });
  for (const hd of h.httpHeaders ?? []) headers.set(hd.name, hd.value);
  try {
    const res = await fetch(url, {
      headers,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      ...({ tls: { rejectUnauthorized: false } } as object),
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 400) return { ok: true };
    return { ok: false, message: `HTTP probe failed with statuscode: ${res.status}` };
  } catch (e) {
    const err = e as Error;
    if (err.name === "TimeoutError" || err.name === "AbortError") {
      return { ok: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` };
    }
    return { ok: false, message: `Get "${url}": ${err.message}` };
  }
}

function tcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(t);
      s.destroy();
      resolve({ ok: true });
    });
    s.once("error", (e) => {
      clearTimeout(t);
      resolve({ ok: false, message: `dial tcp ${host}:${port}: ${(e as Error).message}` });
    });
  });
}

async function execProbe(command: string[], target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  if (!target.runtime.exec) return { ok: false, message: `the ${target.runtime.name} runtime cannot exec` };
  const chunks: Uint8Array[] = [];
  let size = 0;
  const sink = new WritableStream<Uint8Array>({
    write(c) {
      if (size < 10_240) chunks.push(c);
      size += c.length;
    },
  });
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const code = await target.runtime.exec(target.containerId, command, { stdout: sink, stderr: sink, signal });
    if (signal.aborted) return { ok: false, message: `command ${JSON.stringify(command.join(" "))} timed out` };
    const out = Buffer.concat(chunks).toString("utf8").trim();
    return code === 0 ? { ok: true } : { ok: false, message: out || `command ${JSON.stringify(command.join(" "))} exited with ${code}` };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

/** Runs a probe or hook handler once. Never throws. */
export async function runHandler(h: Probe | LifecycleHandler, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  try {
    if (h.exec) return await execProbe(h.exec.command ?? [], target, timeoutMs);
    if (h.httpGet) return await httpGet(h.httpGet, target, timeoutMs);
    if (h.tcpSocket) return await tcp(h.tcpSocket.host || target.podIP() || "127.0.0.1", resolvePort(h.tcpSocket.port, target.ports), timeoutMs);
    if ("sleep" in h && h.sleep) {
      await new Promise((r) => setTimeout(r, Math.min(h.sleep!.seconds * 1000, timeoutMs)));
      return { ok: true };
    }
    if ("grpc" in h && h.grpc) return { ok: true, message: "gRPC probes are not supported by this node agent; counted as success" };
    return { ok: false, message: "the handler has no action" };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

export interface ProbeCallbacks {
  /** A result that changes what the pod worker does (started, liveness/startup failure) or shows (readiness). */
  changed(): void;
  /** A failed probe, for an event (`Unhealthy`). */
  failed(kind: ProbeKind, message: string): void;
}

/** The probes of one running container. */
export class ContainerProbes {
  ready: boolean;
  started: boolean;
  /** Set when the liveness or startup probe failed: the container must be restarted. */
  killReason?: string;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #stopped = false;

  constructor(
    private readonly c: Container,
    private readonly target: ProbeTarget,
    private readonly startedAt: number,
    private readonly cb: ProbeCallbacks,
    opts: { ready?: boolean } = {},
  ) {
    this.started = !c.startupProbe;
    this.ready = !c.readinessProbe ? true : (opts.ready ?? false);
    if (c.startupProbe) this.#loop("startup", c.startupProbe);
    if (c.livenessProbe) this.#loop("liveness", c.livenessProbe);
    if (c.readinessProbe) this.#loop("readiness", c.readinessProbe);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #after(ms: number, fn: () => void): void {
    if (this.#stopped) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, Math.max(0, ms));
    this.#timers.add(t);
  }

  #loop(kind: ProbeKind, p: Probe): void {
    const period = Math.max(1, p.periodSeconds ?? 10) * 1000;
    const timeout = Math.max(1, p.timeoutSeconds ?? 1) * 1000;
    const failureThreshold = Math.max(1, p.failureThreshold ?? 3);
    const successThreshold = kind === "readiness" ? Math.max(1, p.successThreshold ?? 1) : 1;
    let successes = 0;
    let failures = 0;
    const tick = async () => {
      if (this.#stopped) return;
      if (kind !== "startup" && !this.started) return this.#after(period, () => void tick());
      const r = await runHandler(p, this.target, timeout);
      if (this.#stopped) return;
      if (r.ok) {
        successes++;
        failures = 0;
      } else {
        failures++;
        successes = 0;
        this.cb.failed(kind, r.message ?? "failed");
      }
      switch (kind) {
        case "startup":
          if (r.ok) {
            this.started = true;
            this.cb.changed();
            return; // the startup probe is done
          }
          if (failures >= failureThreshold) {
            this.killReason = `Container ${this.c.name} failed startup probe, will be restarted`;
            this.cb.changed();
            return;
          }
          break;
        case "liveness":
          if (!r.ok && failures >= failureThreshold) {
            this.killReason = `Container ${this.c.name} failed liveness probe, will be restarted`;
            this.cb.changed();
            return;
          }
          break;
        case "readiness":
          if (r.ok && successes >= successThreshold && !this.ready) {
            this.ready = true;
            this.cb.changed();
          } else if (!r.ok && failures >= failureThreshold && this.ready) {
            this.ready = false;
            this.cb.changed();
          }
          break;
      }
      this.#after(period, () => void tick());
    };
    const delay = (p.initialDelaySeconds ?? 0) * 1000 - (Date.now() - this.startedAt);
    this.#after(delay, () => void tick());
  }
}
