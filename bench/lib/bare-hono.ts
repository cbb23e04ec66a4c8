/**
 * The ceiling for the `api` bench: a bare Hono app on the same runtime and
 * serve path as the API server, answering one small JSON document.
 * Prints `listening <port>` when ready.
 */
import { Hono } from "hono";
import { serve } from "../../core/server/serve.ts";

const app = new Hono();
const doc = JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Success" });
app.get("/ping", () => new Response(doc, { headers: { "content-type": "application/json" } }));
const l = await serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
process.stdout.write(`listening ${l.port}\n`);
