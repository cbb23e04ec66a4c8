import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Client } from "../../core/client/types.ts";
import { createKernel } from "../../core/kernel.ts";
import { Tokens } from "../../core/plugin/tokens.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import { fakeRuntimePlugin } from "../../runtime-adapters/fake/index.ts";
import dnsPlugin from "../dns/index.ts";
import { nodeAgentPlugin } from "./index.ts";
import { boundPod, podsRef } from "./testing.ts";
import { ClusterDnsSource, parseResolvConf, podDnsConfig, sandboxDns, setClusterDnsSource } from "./dns-config.ts";

const host = parseResolvConf("# generated\nnameserver 192.0.2.53\nnameserver 192.0.2.54 ; second\nsearch home.example corp.example\noptions edns0 timeout:2\n");
const cluster = { servers: ["10.96.0.10"], domain: "cluster.local" };

describe("parseResolvConf", () => {
  test("nameservers, search, options; comments dropped", () => {
    expect(host).toEqual({ servers: ["192.0.2.53", "192.0.2.54"], searches: ["home.example", "corp.example"], options: ["edns0", "timeout:2"] });
  });
  test("the last search/domain line wins", () => {
    expect(parseResolvConf("domain a.example\nsearch b.example c.example\n").searches).toEqual(["b.example", "c.example"]);
  });
});

describe("podDnsConfig", () => {
  const cases: { name: string; pod: Parameters<typeof podDnsConfig>[0]; cluster?: typeof cluster; want: ReturnType<typeof podDnsConfig> }[] = [
    {
      name: "ClusterFirst (the default): cluster DNS, kube search path then the host's, ndots:5",
      pod: { namespace: "shop" },
      want: { servers: ["10.96.0.10"], searches: ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "home.example", "corp.example"], options: ["ndots:5"] },
    },
    {
      name: "ClusterFirst with hostNetwork falls back to the host's settings",
      pod: { namespace: "shop", hostNetwork: true, dnsPolicy: "ClusterFirst" },
      want: host,
    },
    {
      name: "ClusterFirstWithHostNet uses the cluster DNS for a hostNetwork pod",
      pod: { namespace: "kube-system", hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" },
      want: { servers: ["10.96.0.10"], searches: ["kube-system.svc.cluster.local", "svc.cluster.local", "cluster.local", "home.example", "corp.example"], options: ["ndots:5"] },
    },
    {
      name: "ClusterFirst without a known cluster DNS: the host's settings",
      pod: { namespace: "shop" },
      cluster: { servers: [], domain: "cluster.local" },
      want: host,
    },
    { name: "Default: the host's resolv.conf", pod: { namespace: "shop", dnsPolicy: "Default" }, want: host },
    { name: "None without dnsConfig: nothing", pod: { namespace: "shop", dnsPolicy: "None" }, want: { servers: [], searches: [], options: [] } },
    {
      name: "None with dnsConfig: exactly dnsConfig",
      pod: { namespace: "shop", dnsPolicy: "None", dnsConfig: { nameservers: ["1.2.3.4"], searches: ["x.example"], options: [{ name: "ndots", value: "2" }, { name: "rotate" }] } },
      want: { servers: ["1.2.3.4"], searches: ["x.example"], options: ["ndots:2", "rotate"] },
    },
    {
      name: "dnsConfig merges: servers and searches appended without duplicates, options replaced by name",
      pod: { namespace: "a", dnsConfig: { nameservers: ["10.96.0.10", "1.2.3.4"], searches: ["cluster.local", "x.example"], options: [{ name: "ndots", value: "1" }, { name: "edns0" }] } },
      want: {
        servers: ["10.96.0.10", "1.2.3.4"],
        searches: ["a.svc.cluster.local", "svc.cluster.local", "cluster.local", "home.example", "corp.example", "x.example"],
        options: ["ndots:1", "edns0"],
      },
    },
    {
      name: "at most 3 nameservers",
      pod: { namespace: "a", dnsPolicy: "Default", dnsConfig: { nameservers: ["1.1.1.1", "2.2.2.2"] } },
      want: { servers: ["192.0.2.53", "192.0.2.54", "1.1.1.1"], searches: host.searches, options: host.options },
    },
    {
      name: "another cluster domain",
      pod: { namespace: "a" },
      cluster: { servers: ["10.43.0.10"], domain: "edge.lan" },
      want: { servers: ["10.43.0.10"], searches: ["a.svc.edge.lan", "svc.edge.lan", "edge.lan", "home.example", "corp.example"], options: ["ndots:5"] },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(podDnsConfig(c.pod, c.cluster ?? cluster, host)).toEqual(c.want);
    });
  }
});

describe("ClusterDnsSource", () => {
  function fakeClient(get: (name: string, ns?: string) => Promise<unknown>): Client {
    return { get: (_ref: unknown, name: string, o?: { namespace?: string }) => get(name, o?.namespace) } as unknown as Client;
  }

  test("reads the kube-dns Service's ClusterIP, and the configured servers win", async () => {
    const asked: string[] = [];
    const client = fakeClient(async (name, ns) => {
      asked.push(`${ns}/${name}`);
      return { metadata: { name }, spec: { clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"] } };
    });
    const s = new ClusterDnsSource({ client, configured: [], domain: "cluster.local" });
    await s.refresh();
    expect(s.cluster()).toEqual({ servers: ["10.96.0.10"], domain: "cluster.local" });
    expect(asked).toEqual(["kube-system/kube-dns"]);
    const fixed = new ClusterDnsSource({ client, configured: ["10.0.0.53"], domain: "cluster.local" });
    await fixed.refresh();
    expect(fixed.cluster().servers).toEqual(["10.0.0.53"]);
    expect(asked).toHaveLength(1);
  });

  test("no Service: no cluster DNS, so ClusterFirst pods get the host's settings", async () => {
    const client = fakeClient(async () => {
      throw new Error("NotFound");
    });
    const dir = `${process.env.TMPDIR ?? "/tmp"}/skiff-dns-config-${process.pid}`;
    await Bun.write(`${dir}/resolv.conf`, "nameserver 192.0.2.1\nsearch lan\n");
    const s = new ClusterDnsSource({ client, configured: [], domain: "cluster.local", resolvConf: `${dir}/resolv.conf` });
    await s.refresh();
    expect(s.forPod({ namespace: "a" })).toEqual({ servers: ["192.0.2.1"], searches: ["lan"], options: [] });
    await Bun.$`rm -rf ${dir}`;
  });

  test("sandboxDns: from the client's source, or only dnsConfig without one", async () => {
    const client = fakeClient(async () => ({ metadata: {}, spec: { clusterIP: "10.96.0.10" } }));
    const pod = { metadata: { namespace: "web" }, spec: { dnsConfig: { options: [{ name: "ndots", value: "2" }] } } };
    expect(sandboxDns(pod, client)).toEqual({ dns: { servers: [], searches: [], options: ["ndots:2"] } });
    expect(sandboxDns({ metadata: {}, spec: {} }, client)).toEqual({});
    const s = new ClusterDnsSource({ client, configured: [], domain: "cluster.local", resolvConf: "/nonexistent/resolv.conf" });
    await s.refresh();
    setClusterDnsSource(client, s);
    expect(sandboxDns(pod, client).dns).toEqual({ servers: ["10.96.0.10"], searches: ["web.svc.cluster.local", "svc.cluster.local", "cluster.local"], options: ["ndots:2"] });
  });
});

describe("the agent gives sandboxes their DNS settings (in-process kernel, fake runtime, dns plugin)", () => {
  test("ClusterFirst pods get the kube-dns ClusterIP and the search path; Default pods the host's", async () => {
    const k = await createKernel({
      memory: true,
      plugins: {
        available: [dnsPlugin, nodeAgentPlugin(), fakeRuntimePlugin()] as Plugin<never>[],
        preset: "all-in-one",
        runtime: "fake",
        nodeName: "n1",
        settings: { dns: { config: { upstream: ["127.0.0.1:9"] } }, "node-agent": { config: { server: { port: 0 } } } },
      },
    });
    try {
      const runtime = k.plugins.container.resolveAll(Tokens.RuntimeAdapter).find((r) => r.name === "fake")!;
      const seen = new Map<string, { servers: string[]; searches: string[]; options: string[] } | undefined>();
      const run = runtime.runPodSandbox.bind(runtime);
      runtime.runPodSandbox = (config) => {
        seen.set(config.name, config.dns);
        return run(config);
      };
      await k.client.create(podsRef, boundPod("cf", "n1"));
      const dflt = boundPod("df", "n1");
      dflt.spec.dnsPolicy = "Default";
      await k.client.create(podsRef, dflt);
      // Awaits the runtime call itself (no status round trip), with a deadline.
      const deadline = Date.now() + 10_000;
      while ((!seen.has("cf") || !seen.has("df")) && Date.now() < deadline) await Bun.sleep(20);
      expect(seen.get("cf")).toEqual({
        servers: ["10.96.0.10"],
        searches: ["default.svc.cluster.local", "svc.cluster.local", "cluster.local", ...hostResolvConf().searches],
        options: ["ndots:5"],
      });
      expect(seen.get("df")).toEqual(hostResolvConf());
    } finally {
      await k.stop();
    }
  });
});

function hostResolvConf(): { servers: string[]; searches: string[]; options: string[] } {
  return parseResolvConf(readFileSync("/etc/resolv.conf", "utf8"));
}
