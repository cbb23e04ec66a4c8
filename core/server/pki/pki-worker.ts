/**
 * @module The worker of `precreate.ts`: makes a new cluster's CA, admin
 * certificate and ServiceAccount keys at once, posts them, then issues the
 * serving certificate for the SANs it is sent. Writes nothing.
 */
import { parentPort } from "node:worker_threads";
import { createFreshMaterial, DEFAULT_LEAF_MS, issueServing } from "./cluster-pki.ts";
import { loadSigner } from "./x509.ts";

const port = parentPort!;
try {
  const fresh = await createFreshMaterial(new Date());
  const signer = await loadSigner(fresh.ca);
  port.on("message", (m: { sans: { dnsNames: string[]; ipAddresses: string[] } }) => {
    issueServing(signer, m.sans, DEFAULT_LEAF_MS, new Date()).then(
      (serving) => port.postMessage({ type: "serving", serving }),
      (e: unknown) => port.postMessage({ type: "error", message: (e as Error).message }),
    );
  });
  port.postMessage({ type: "fresh", fresh });
} catch (e) {
  port.postMessage({ type: "error", message: (e as Error).message });
}
