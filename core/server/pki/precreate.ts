/**
 * @module A new cluster's certificates, made in a worker thread while the
 * server process is still loading. On a first start, creating the CA, the
 * admin and serving certificates means loading `@peculiar/x509` and running
 * its ASN.1 code cold: about 100–150 ms of one core, during which the other
 * core of a small machine sits idle. `precreatePki` (called by the start-up
 * entry before anything else loads) starts a worker that makes the CA, the
 * admin certificate and the ServiceAccount keys at once; `ClusterPki.open`
 * then asks it for the serving certificate with the SANs it wants, takes the
 * material and writes the files itself (under the data dir's lock, as the
 * in-thread path does). Nothing is written by the worker.
 *
 * Only on Bun, only when `<dataDir>/tls/ca.crt` does not exist, and only for
 * default certificate lifetimes (`ClusterPki.open` checks). Whenever the
 * worker is missing, fails or is not wanted, `ClusterPki.open` makes the
 * material in-thread exactly as before. The worker is a source file
 * (`pki-worker.ts`), found through the package root, so the start-up bundle
 * uses it too.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { packagePath } from "../../package-root.ts";
import type { FreshMaterial } from "./cluster-pki.ts";
import type { CertKeyPem } from "./x509.ts";

type FromWorker = { type: "fresh"; fresh: FreshMaterial } | { type: "serving"; serving: CertKeyPem } | { type: "error"; message: string };

interface Pending {
  tlsDir: string;
  worker: Worker;
  fresh: Promise<FreshMaterial>;
  next: (m: FromWorker) => void;
}

let pending: Pending | undefined;

/** Starts making a new cluster's material for `<dataDir>/tls` (no-op unless on Bun and the CA does not exist yet). */
export function precreatePki(dataDir: string): void {
  const tlsDir = resolve(dataDir, "tls");
  if (pending || typeof (globalThis as { Bun?: unknown }).Bun === "undefined" || existsSync(join(tlsDir, "ca.crt"))) return;
  let worker: Worker;
  try {
    worker = new Worker(packagePath("core/server/pki/pki-worker.ts"));
  } catch {
    return;
  }
  worker.unref();
  let waiter: ((m: FromWorker) => void) | undefined;
  const p: Pending = {
    tlsDir,
    worker,
    fresh: new Promise<FreshMaterial>((ok, fail) => {
      waiter = (m) => (m.type === "fresh" ? ok(m.fresh) : fail(new Error(m.type === "error" ? m.message : "unexpected message")));
    }),
    next: (m) => waiter?.(m),
  };
  p.fresh.catch(() => {}); // read by takePrecreated; an unread failure is not an error.
  worker.on("message", (m: FromWorker) => p.next(m));
  worker.on("error", (e) => p.next({ type: "error", message: e.message }));
  worker.on("exit", () => p.next({ type: "error", message: "the certificate worker exited" }));
  pending = p;
}

/**
 * `precreatePki` for the `skiff` command line: a `server` start whose data
 * dir has no CA, with no config file that could change the certificates'
 * lifetimes, and not `--insecure`.
 */
export function precreateForArgv(argv: string[]): void {
  const args = argv.slice(2);
  if (args[0] !== "server") return;
  if (args.some((a) => a === "--insecure" || a === "--help" || a === "-h" || a === "--config" || a.startsWith("--config="))) return;
  let dataDir = ".skiff";
  for (let i = 1; i < args.length; i++) {
    if (args[i] === "--data-dir" && args[i + 1]) dataDir = args[i + 1]!;
    else if (args[i]!.startsWith("--data-dir=")) dataDir = args[i]!.slice("--data-dir=".length);
  }
  if (existsSync(join(dataDir, "skiff.yaml"))) return;
  precreatePki(dataDir);
}

/**
 * The material being made for `tlsDir`, if a worker was started for it: the
 * CA, admin certificate and ServiceAccount keys, plus a serving certificate
 * for `sans`. One use; the worker ends after it.
 */
export function takePrecreated(tlsDir: string): { material(sans: { dnsNames: string[]; ipAddresses: string[] }): Promise<{ fresh: FreshMaterial; serving: CertKeyPem }> } | undefined {
  const p = pending;
  if (!p || p.tlsDir !== resolve(tlsDir)) return undefined;
  pending = undefined;
  return {
    async material(sans) {
      try {
        const fresh = await p.fresh;
        const serving = new Promise<CertKeyPem>((ok, fail) => {
          p.next = (m) => (m.type === "serving" ? ok(m.serving) : fail(new Error(m.type === "error" ? m.message : "unexpected message")));
        });
        p.worker.postMessage({ sans });
        return { fresh, serving: await serving };
      } finally {
        void p.worker.terminate();
      }
    },
  };
}
