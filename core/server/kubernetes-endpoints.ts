/**
 * @module The endpoints of the `kubernetes` Service (upstream's master
 * endpoints reconciler, `pkg/controlplane/reconcilers`, the master-count one
 * with a count of 1): an Endpoints `default/kubernetes` listing this API
 * server's address and port (`https`, labelled
 * `endpointslice.kubernetes.io/skip-mirror`), and the EndpointSlice
 * `default/kubernetes` made from it (upstream endpointsadapter). Checked at
 * start and every 10 s; written only when different.
 *
 * The address is the one the API is reachable on from pods: the listen
 * address when it is a specific IP, else (listening on every interface) the
 * first non-internal interface address, as upstream chooses its advertise
 * address. A loopback listener (the default `127.0.0.1`) publishes nothing:
 * loopback addresses are not valid endpoints, and such an API is not
 * reachable from pods anyway.
 */
import { networkInterfaces } from "node:os";
import { isApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import type { Client, ResourceRef } from "../client/types.ts";
import type { Logger } from "../log.ts";

const ENDPOINTS: ResourceRef = { group: "", version: "v1", resource: "endpoints" };
const ENDPOINT_SLICES: ResourceRef = { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" };
/** Upstream EndpointReconcilerInterval. */
export const RECONCILE_INTERVAL_MS = 10_000;

function isIPv4(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s);
}

function isSpecial(ip: string): boolean {
  const v6 = ip.toLowerCase();
  return ip.startsWith("127.") || ip.startsWith("169.254.") || ip === "0.0.0.0" || v6 === "::" || v6 === "::1" || /^fe[89ab]/.test(v6);
}

/**
 * The address to publish for a listener on `host`, or undefined when there
 * is none (loopback, a host name). `interfaces` is os.networkInterfaces()'s shape.
 */
export function advertiseAddress(host: string, interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string | undefined {
  const h = host.replace(/^\[|\]$/g, "");
  const unspecified = h === "0.0.0.0" || h === "::" || h === "";
  if (!unspecified) return (isIPv4(h) || h.includes(":")) && !isSpecial(h) ? h : undefined;
  const wantV6 = h === "::";
  const candidates = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal && !isSpecial(a.address));
  const v4 = candidates.find((a) => a.family === "IPv4");
  const v6 = candidates.find((a) => a.family === "IPv6");
  return (wantV6 ? (v4 ?? v6) : v4)?.address;
}

/** JSON with sorted keys: equal content, equal string. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val) =>
    val && typeof val === "object" && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : val,
  );
}

export class KubernetesEndpoints {
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly client: Client,
    private readonly address: { ip: string; port: number },
    private readonly log: Logger,
  ) {}

  /** Reconciles now, then every RECONCILE_INTERVAL_MS until `stop`. Never throws (failures are logged and retried). */
  async start(): Promise<void> {
    await this.#tick();
    this.#timer = setInterval(() => void this.#tick(), RECONCILE_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #tick(): Promise<void> {
    this.#running ??= this.reconcile()
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, "kubernetes endpoints not reconciled"))
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Brings `default/kubernetes` Endpoints and EndpointSlice to this server's address. Idempotent. */
  async reconcile(): Promise<void> {
    const { ip, port } = this.address;
    const ports = [{ name: "https", port, protocol: "TCP" }];
    await this.#ensure(ENDPOINTS, {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "kubernetes", namespace: "default", labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } },
      subsets: [{ addresses: [{ ip }], ports }],
    });
    await this.#ensure(ENDPOINT_SLICES, {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "kubernetes", namespace: "default", labels: { "kubernetes.io/service-name": "kubernetes" } },
      addressType: isIPv4(ip) ? "IPv4" : "IPv6",
      endpoints: [{ addresses: [ip], conditions: { ready: true } }],
      ports,
    });
  }

  /** Creates `want`, or updates the live object when its labels or content (all but metadata) differ. */
  async #ensure(ref: ResourceRef, want: KubeObject): Promise<void> {
    let live: KubeObject;
    try {
      live = await this.client.get(ref, "kubernetes", { namespace: "default" });
    } catch (e) {
      if (!isApiError(e, "NotFound")) throw e;
      await this.client.create(ref, want, { fieldManager: "kube-apiserver" });
      return;
    }
    const { metadata: _w, ...wantBody } = want;
    const { metadata: _l, apiVersion: _a, kind: _k, ...liveBody } = live;
    const labels = { ...(live.metadata.labels ?? {}), ...want.metadata.labels };
    if (canonical({ apiVersion: want.apiVersion, kind: want.kind, ...liveBody }) === canonical(wantBody) && canonical(labels) === canonical(live.metadata.labels ?? {})) {
      return;
    }
    const { managedFields: _m, ...meta } = live.metadata;
    await this.client.update(ref, { ...wantBody, metadata: { ...meta, labels } }, { fieldManager: "kube-apiserver" });
  }
}
