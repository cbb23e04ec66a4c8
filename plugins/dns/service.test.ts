import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKernel, type Kernel } from "../../core/kernel.ts";
import { Tokens } from "../../core/plugin/tokens.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import dnsPlugin, { type ClusterDns } from "./index.ts";
import { endpointFor, hostAddress, tenthAddress } from "./service.ts";

describe("kube-dns address and endpoint", () => {
  test("the 10th address of the service range, from the 1st", () => {
    expect(tenthAddress("10.96.0.1")).toBe("10.96.0.10");
    expect(tenthAddress("10.43.0.1")).toBe("10.43.0.10");
    expect(tenthAddress("10.0.0.249")).toBe("10.0.1.2");
  });

  test("endpoint: configured address, else a specific non-loopback one, never loopback", () => {
    expect(endpointFor([{ host: "192.0.2.2", port: 1053 }], "")).toEqual({ host: "192.0.2.2", port: 1053 });
    expect(endpointFor([{ host: "127.0.0.1", port: 1053 }, { host: "192.0.2.2", port: 2053 }], "")).toEqual({ host: "192.0.2.2", port: 2053 });
    expect(endpointFor([{ host: "127.0.0.1", port: 1053 }], "")).toBeUndefined();
    expect(endpointFor([{ host: "0.0.0.0", port: 3053 }], "192.0.2.9")).toEqual({ host: "192.0.2.9", port: 3053 });
    expect(endpointFor([{ host: "127.0.0.1", port: 1053 }], "127.0.0.1")).toBeUndefined();
    expect(endpointFor([{ host: "::1", port: 1053 }], "")).toBeUndefined();
  });
});

describe("the dns plugin publishes kube-dns", () => {
  const dir = mkdtempSync(join(tmpdir(), "skiff-dns-svc-"));
  let kernel: Kernel | undefined;
  const host = hostAddress()!;
  afterAll(async () => {
    await kernel?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = () =>
    createKernel({
      dataDir: dir,
      plugins: {
        available: [dnsPlugin as Plugin<never>],
        preset: "server",
        // The server binds this host's address; nothing is sent anywhere.
        settings: { dns: { config: { upstream: ["127.0.0.1:9"] } } },
      },
    });

  test("Service at the 10th address, EndpointSlice at the bound port; the same port after a restart", async () => {
    kernel = await start();
    const handle = kernel.plugins.container.resolve(Tokens.ClusterDns) as ClusterDns;
    const bound = handle.addresses();
    expect(bound).toHaveLength(1);
    expect(bound[0]!.host).toBe(host);
    expect(handle.serviceIP).toBe("10.96.0.10");
    const c = kernel.client;
    const svc = await c.get<any>({ group: "", version: "v1", resource: "services" }, "kube-dns", { namespace: "kube-system" });
    expect(svc.spec.clusterIP).toBe("10.96.0.10");
    expect(svc.spec.selector).toBeUndefined();
    expect(svc.spec.ports.map((p: any) => `${p.name}/${p.port}/${p.protocol}`)).toEqual(["dns/53/UDP", "dns-tcp/53/TCP"]);
    const slice = await c.get<any>({ group: "discovery.k8s.io", version: "v1", resource: "endpointslices" }, "kube-dns-skiff", { namespace: "kube-system" });
    expect(slice.metadata.labels["kubernetes.io/service-name"]).toBe("kube-dns");
    expect(slice.endpoints).toEqual([expect.objectContaining({ addresses: [host], conditions: expect.objectContaining({ ready: true }) })]);
    expect(slice.ports.map((p: any) => `${p.name}/${p.port}/${p.protocol}`)).toEqual([`dns/${bound[0]!.port}/UDP`, `dns-tcp/${bound[0]!.port}/TCP`]);

    await kernel.stop();
    kernel = await start();
    const again = (kernel.plugins.container.resolve(Tokens.ClusterDns) as ClusterDns).addresses();
    expect(again[0]!.port).toBe(bound[0]!.port);
  });

  test("when another Service holds the 10th address, kube-dns gets another one", async () => {
    await kernel?.stop();
    kernel = undefined;
    const dir2 = mkdtempSync(join(tmpdir(), "skiff-dns-svc2-"));
    try {
      const bare = await createKernel({ dataDir: dir2, plugins: { available: [], preset: "server" } });
      await bare.client.create({ group: "", version: "v1", resource: "services" }, { metadata: { name: "squatter", namespace: "default" }, spec: { clusterIP: "10.96.0.10", ports: [{ port: 80 }] } } as never);
      await bare.stop();
      const k = await createKernel({
        dataDir: dir2,
        plugins: { available: [dnsPlugin as Plugin<never>], preset: "server", settings: { dns: { config: { upstream: ["127.0.0.1:9"] } } } },
      });
      try {
        const ip = (k.plugins.container.resolve(Tokens.ClusterDns) as ClusterDns).serviceIP;
        expect(ip).toMatch(/^10\./);
        expect(ip).not.toBe("10.96.0.10");
        expect(k.plugins.status().find((p) => p.name === "dns")).toMatchObject({ state: "running" });
      } finally {
        await k.stop();
      }
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
