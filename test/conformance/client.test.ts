/** The Client conformance suite over both transports: in-process (the router's fetch) and HTTP (a listening kernel: HTTPS with the admin certificate, the default). */
import { setDefaultTimeout } from "bun:test";
import { httpClient, inProcessClient } from "../../core/client/fetch-client.ts";
import { createKernel } from "../../core/kernel.ts";
import { tlsFetch } from "../../core/server/pki/tls-client.ts";
import { clientConformance } from "./client-suite.ts";

setDefaultTimeout(15_000);

clientConformance("in-process", async (opts = {}) => {
  const kernel = await createKernel({ memory: true, ...(opts.store ? { store: opts.store } : {}) });
  return { kernel, client: inProcessClient(kernel.api.app.fetch, { fieldManager: "conformance" }) };
});

clientConformance("http", async (opts = {}) => {
  const kernel = await createKernel({ memory: true, listen: { host: "127.0.0.1", port: 0 }, ...(opts.store ? { store: opts.store } : {}) });
  return { kernel, client: httpClient({ server: kernel.url!, fetch: tlsFetch(kernel.clientTls!), fieldManager: "conformance" }) };
});
