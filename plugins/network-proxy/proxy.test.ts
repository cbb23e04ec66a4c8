import { describe, expect, test } from "bun:test";
import { createKernel } from "../../core/kernel.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import { networkProxyPlugin } from "./index.ts";
import { DEFAULT_PROXY_CONFIG, NftablesProxy } from "./proxy.ts";

describe("network proxy availability", () => {
  test("a missing nft binary is a reason, not a crash", async () => {
    const p = new NftablesProxy({ ...DEFAULT_PROXY_CONFIG, nft: "/nonexistent/nft" });
    const r = await p.available();
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.reason).toMatch(/\/nonexistent\/nft not found|not running as root/);
  });

  test("when unavailable the server still starts and is ready; the reason is a Warning Event", async () => {
    const k = await createKernel({
      memory: true,
      plugins: {
        available: [networkProxyPlugin()] as Plugin<never>[],
        preset: "agent",
        nodeName: "n1",
        settings: { "network-proxy": { config: { nft: "/nonexistent/nft" } } },
      },
    });
    try {
      expect(k.plugins.status().find((s) => s.name === "network-proxy")).toMatchObject({ state: "running" });
      const ready = await k.api.app.fetch(new Request("http://x/readyz"));
      expect(ready.status).toBe(200);
      const deadline = Date.now() + 5000;
      let events: { reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }[] = [];
      while (Date.now() < deadline) {
        events = (await k.client.list<never>({ group: "", version: "v1", resource: "events" })).items as typeof events;
        if (events.some((e) => e.reason === "NetworkProxyUnavailable")) break;
        await Bun.sleep(20);
      }
      const e = events.find((x) => x.reason === "NetworkProxyUnavailable");
      expect(e?.involvedObject).toMatchObject({ kind: "Node", name: "n1" });
      expect(e?.message).toMatch(/network proxy \(nftables\) is not running on this node: /);
    } finally {
      await k.stop();
    }
  });
});
