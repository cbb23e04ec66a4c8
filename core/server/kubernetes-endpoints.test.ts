import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { networkInterfaces } from "node:os";
import type { KubeObject } from "../api/meta.ts";
import { createKernel, type Kernel } from "../kernel.ts";
import { logger } from "../log.ts";
import { advertiseAddress, KubernetesEndpoints } from "./kubernetes-endpoints.ts";

const EP = { group: "", version: "v1", resource: "endpoints" };
const SLICES = { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" };

type Ifaces = ReturnType<typeof networkInterfaces>;
const iface = (address: string, family: "IPv4" | "IPv6", internal = false) =>
  ({ address, family, internal, netmask: "", mac: "", cidr: null }) as unknown as NonNullable<Ifaces[string]>[number];
const IFACES: Ifaces = {
  lo: [iface("127.0.0.1", "IPv4", true), iface("::1", "IPv6", true)],
  eth0: [iface("fe80::1", "IPv6"), iface("192.0.2.7", "IPv4"), iface("2001:db8::7", "IPv6")],
};

describe("advertiseAddress", () => {
  test.each([
    ["127.0.0.1", IFACES, undefined],
    ["::1", IFACES, undefined],
    ["localhost", IFACES, undefined],
    ["169.254.1.1", IFACES, undefined],
    ["10.1.2.3", IFACES, "10.1.2.3"],
    ["[2001:db8::1]", IFACES, "2001:db8::1"],
    ["0.0.0.0", IFACES, "192.0.2.7"],
    ["::", IFACES, "192.0.2.7"],
    ["::", { eth0: [iface("2001:db8::7", "IPv6")] }, "2001:db8::7"],
    ["0.0.0.0", { lo: IFACES.lo }, undefined],
  ] as const)("%s", (host, ifaces, want) => {
    expect(advertiseAddress(host, ifaces as Ifaces)).toBe(want);
  });
});

describe("KubernetesEndpoints", () => {
  let k: Kernel;
  beforeAll(async () => {
    k = await createKernel({ memory: true, listen: { host: "127.0.0.1", port: 0 } });
  });
  afterAll(() => k.stop());

  const get = (ref: typeof EP) => k.client.get<KubeObject>(ref, "kubernetes", { namespace: "default" });

  test("a loopback listener publishes nothing", async () => {
    await expect(get(EP)).rejects.toThrow(/not found/);
    await expect(get(SLICES)).rejects.toThrow(/not found/);
  });

  test("writes the Endpoints and EndpointSlice once, then only to repair them", async () => {
    const r = new KubernetesEndpoints(k.client, { ip: "192.0.2.10", port: 6443 }, logger("test"));
    await r.reconcile();
    const ep = await get(EP);
    expect(ep.metadata.labels).toEqual({ "endpointslice.kubernetes.io/skip-mirror": "true" });
    expect(ep.subsets).toEqual([{ addresses: [{ ip: "192.0.2.10" }], ports: [{ name: "https", port: 6443, protocol: "TCP" }] }]);
    const slice = await get(SLICES);
    expect(slice.metadata.labels).toEqual({ "kubernetes.io/service-name": "kubernetes" });
    expect(slice.addressType).toBe("IPv4");
    expect(slice.endpoints).toEqual([{ addresses: ["192.0.2.10"], conditions: { ready: true } }]);
    expect(slice.ports).toEqual([{ name: "https", port: 6443, protocol: "TCP" }]);

    await r.reconcile();
    expect((await get(EP)).metadata.resourceVersion).toBe(ep.metadata.resourceVersion!);
    expect((await get(SLICES)).metadata.resourceVersion).toBe(slice.metadata.resourceVersion!);

    await k.client.patch(EP, "kubernetes", "merge", { subsets: [{ addresses: [{ ip: "192.0.2.99" }], ports: [{ port: 1 }] }] }, { namespace: "default" });
    await k.client.delete(SLICES, "kubernetes", { namespace: "default" });
    await r.reconcile();
    expect((await get(EP)).subsets).toEqual(ep.subsets);
    expect((await get(SLICES)).endpoints).toEqual(slice.endpoints);

    // A new address (the server moved) replaces the old one.
    await new KubernetesEndpoints(k.client, { ip: "192.0.2.11", port: 6443 }, logger("test")).reconcile();
    expect((await get(SLICES)).endpoints).toEqual([{ addresses: ["192.0.2.11"], conditions: { ready: true } }]);
  });
});
