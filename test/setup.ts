/** Preloaded by `bun test` (bunfig.toml): test runs log warnings and errors only, unless SKIFF_LOG_LEVEL says otherwise. */
process.env.SKIFF_LOG_LEVEL ??= "warn";
// Objects shared between in-process informers are frozen in tests, so code that mutates a cached object fails (core/api/object-channel.ts).
process.env.SKIFF_CACHE_MUTATION_DETECTOR ??= "1";

/**
 * @kubernetes/client-node under Bun: its `undici` is Bun's shim, whose fetch
 * ignores the `dispatcher` carrying the kubeconfig's TLS settings (on Node
 * they apply as they are). A test that sets `globalThis.skiffUndiciTls` (CA,
 * client certificate and key) gets them sent with Bun's `tls` option. It is
 * installed here, before any test file can load client-node: client-node
 * binds `fetch` when it loads, and the suite loads it once for all files.
 */
if ((globalThis as { Bun?: unknown }).Bun) {
  const undici = require("undici") as { fetch: (input: unknown, init?: Record<string, unknown>) => Promise<Response> };
  const original = undici.fetch;
  undici.fetch = (input, init = {}) => {
    const tls = (globalThis as { skiffUndiciTls?: { ca: string; cert: string; key: string } }).skiffUndiciTls;
    if (!tls) return original(input, init);
    const { dispatcher: _ignored, ...rest } = init;
    return original(input, { ...rest, tls });
  };
}
