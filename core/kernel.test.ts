import { afterEach, describe, expect, test } from "bun:test";
import { isApiError } from "./api/errors.ts";
import { createKernel, type Kernel } from "./kernel.ts";
import { definePlugin, type Plugin } from "./plugin/types.ts";

const events = { group: "", version: "v1", resource: "events" };
const configMaps = { group: "", version: "v1", resource: "configmaps" };

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.stop();
  kernel = undefined;
});

async function until<T>(f: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(20);
  }
}

describe("createKernel with plugins", () => {
  test("a plugin crashing at start is reported in /readyz?verbose and as an Event; the API keeps serving", async () => {
    let attempts = 0;
    const crashy = definePlugin({
      manifest: { name: "crashy", version: "0.1.0" },
      start() {
        attempts++;
        throw new Error("cannot reach the widget bus");
      },
    });
    const fine = definePlugin({ manifest: { name: "fine", version: "0.1.0" }, start() {} });
    kernel = await createKernel({ memory: true, listen: { host: "127.0.0.1", port: 0 }, plugins: { available: [crashy, fine] as Plugin<never>[] } });
    const ready = await fetch(`${kernel.url}/readyz?verbose`, { tls: kernel.clientTls } as RequestInit);
    expect(ready.status).toBe(500);
    const body = await ready.text();
    expect(body).toContain("[-]plugin/crashy failed: cannot reach the widget bus (restarting)");
    expect(body).toContain("[+]plugin/fine ok");
    expect((await fetch(`${kernel.url}/livez`, { tls: kernel.clientTls } as RequestInit)).status).toBe(200);
    // The API is unaffected.
    await kernel.client.create(configMaps, { metadata: { name: "still-works", namespace: "default" } });
    const ev = await until(async () => {
      const list = await kernel!.client.list(events, { namespace: "kube-system", fieldSelector: "involvedObject.name=crashy" });
      return list.items[0];
    });
    expect(ev.reason).toBe("PluginFailed");
    expect(ev.type).toBe("Warning");
    expect(String(ev.message)).toContain("cannot reach the widget bus");
    expect(attempts).toBeGreaterThanOrEqual(1);
  });

  test("a restarted plugin's old informer handlers are removed and its index can be added again", async () => {
    const seen: string[] = [];
    let runs = 0;
    const flaky = definePlugin({
      manifest: { name: "flaky", version: "0.1.0" },
      start(ctx) {
        const run = ++runs;
        const inf = ctx.informers.informer(configMaps);
        inf.addIndex("by-label", (o) => [o.metadata.labels?.tier ?? ""]);
        inf.on({ add: (o) => void seen.push(`${run}:${o.metadata.name}`) });
        if (run === 1) ctx.spawn("dies", async () => Promise.reject(new Error("first run dies")));
      },
    });
    kernel = await createKernel({ memory: true, plugins: { available: [flaky as Plugin<never>] } });
    await until(async () => (kernel!.plugins.status()[0]!.state === "running" && runs === 2 ? true : undefined), 5000);
    await kernel.client.create(configMaps, { metadata: { name: "after", namespace: "default", labels: { tier: "x" } } });
    await until(async () => (seen.includes("2:after") ? true : undefined));
    await Bun.sleep(50);
    expect(seen.filter((s) => s.endsWith(":after"))).toEqual(["2:after"]);
  });

  test("a bad plugin config fails before the store is opened, naming plugin and field", async () => {
    const p = definePlugin({
      manifest: { name: "strict", version: "0.1.0", configSchema: { properties: { port: { type: "integer", maximum: 65535 } } } },
    });
    let err: unknown;
    try {
      kernel = await createKernel({ memory: true, plugins: { available: [p as Plugin<never>], settings: { strict: { config: { port: 70000 } } } } });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toBe('plugin "strict": config.port: must be <= 65535');
    expect(isApiError(err)).toBe(false);
  });

  test("disabling a plugin by setting or flag keeps it from starting", async () => {
    const started: string[] = [];
    const mk = (name: string) => definePlugin({ manifest: { name, version: "1.0.0" }, start: () => void started.push(name) }) as Plugin<never>;
    kernel = await createKernel({
      memory: true,
      plugins: { available: [mk("a"), mk("b"), mk("c")], settings: { a: { enabled: false } }, disable: ["c"] },
    });
    expect(started).toEqual(["b"]);
    expect(kernel.plugins.status().map((s) => s.name)).toEqual(["b"]);
  });
});
