/**
 * @module The network proxy plugin (`network-proxy`), Skiff's kube-proxy:
 * one per node (role agent, so all-in-one too). It makes ClusterIP:port,
 * externalIPs and NodePorts reach the ready endpoints of a Service, from the
 * host and from pods, with nftables (see README.md for the data path).
 *
 * Without root or nft it stays idle: the server still starts, the reason is
 * logged and recorded as a Warning Event `NetworkProxyUnavailable`.
 */
import type { Plugin } from "../../core/plugin/types.ts";
import { DEFAULT_PROXY_CONFIG, NftablesProxy, type ProxyConfig } from "./proxy.ts";

export { servicePorts, type ServicePort } from "./model.ts";
export { DEFAULT_PROXY_CONFIG, NftablesProxy, type ProxyConfig } from "./proxy.ts";
export { render, renderDelete } from "./rules.ts";

export const NAME = "network-proxy";

const d = DEFAULT_PROXY_CONFIG;

/** A fresh network proxy plugin (each kernel gets its own instance). */
export function networkProxyPlugin(): Plugin<ProxyConfig> {
  let proxy: NftablesProxy | undefined;
  return {
    manifest: {
      name: NAME,
      version: "0.1.0",
      description: "Service ClusterIPs and NodePorts to ready endpoints (nftables, like kube-proxy's nftables mode)",
      provides: ["network-proxy"],
      roles: ["agent"],
      // In the server process (all-in-one); a remote agent's proxy acts as its node.
      identity: { user: "system:kube-proxy" },
      configSchema: {
        type: "object",
        additionalProperties: false,
        properties: {
          table: { type: "string", pattern: "^[a-zA-Z][a-zA-Z0-9_-]{0,63}$", default: d.table },
          masqueradeMark: { type: "integer", minimum: 1, maximum: 0x7fffffff, default: d.masqueradeMark },
          nodePortAddresses: { type: "array", items: { type: "string", pattern: "^\\d+\\.\\d+\\.\\d+\\.\\d+$" }, default: d.nodePortAddresses },
          masqueradeAll: { type: "boolean", default: d.masqueradeAll },
          syncDebounceMs: { type: "integer", minimum: 0, maximum: 60000, default: d.syncDebounceMs },
          resyncSeconds: { type: "number", exclusiveMinimum: 0, default: d.resyncSeconds },
          nft: { type: "string", minLength: 1, default: d.nft },
        },
      },
    },
    register(container, config, tokens) {
      proxy = new NftablesProxy(config);
      container.register(tokens.NetworkProxy, { useValue: proxy });
    },
    async start(ctx) {
      proxy ??= new NftablesProxy(ctx.config);
      const p = proxy;
      const ok = await p.available();
      if (!ok.ok) {
        ctx.log.warn({ reason: ok.reason }, "network proxy unavailable: Services are not programmed on this node");
        ctx.events.record(
          { kind: "Node", name: ctx.nodeName ?? "unknown", apiVersion: "v1" },
          "Warning",
          "NetworkProxyUnavailable",
          `network proxy (${p.name}) is not running on this node: ${ok.reason}`,
        );
        return;
      }
      try {
        await p.start(ctx as never);
      } catch (e) {
        await p.stop();
        throw e;
      }
      ctx.log.info({ table: p.config.table, ...p.lastSync }, "network proxy programming nftables");
      return () => p.stop();
    },
  };
}
