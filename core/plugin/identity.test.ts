/**
 * @module Plugin identities: the host hands each plugin a client of its
 * declared identity, and a kernel authorizes that client like any user — a
 * refusal shows in the audit log and in the log under the plugin's user.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isApiError } from "../api/errors.ts";
import type { Client, InformerFactory } from "../client/types.ts";
import { createKernel, type Kernel } from "../kernel.ts";
import { type Logger, logger } from "../log.ts";
import type { AuditEvent } from "../server/audit.ts";
import { PluginHost } from "./host.ts";
import { loggingForbidden, resolveIdentity, serviceAccountIdentity, userInfoOf } from "./identity.ts";
import { Tokens } from "./tokens.ts";
import { definePlugin, type Plugin, type PluginContext, type PluginIdentity } from "./types.ts";

const CMS = { group: "", version: "v1", resource: "configmaps" } as const;
const SECRETS = { group: "", version: "v1", resource: "secrets" } as const;

const kernelClient = { name: "kernel" } as unknown as Client;

function host(o: { clientFor?: (id: PluginIdentity, plugin: string) => Client; nodeName?: string } = {}) {
  return new PluginHost({
    role: "server",
    client: kernelClient,
    ...(o.clientFor ? { clientFor: o.clientFor } : {}),
    informers: {} as InformerFactory,
    events: { record() {} },
    log: logger("test-identity"),
    ...(o.nodeName ? { nodeName: o.nodeName } : {}),
    backoff: { initialMs: 10, maxMs: 20, resetAfterMs: 60_000 },
    stopTimeoutMs: 200,
  });
}

function capturing(p: string, identity: Plugin<never>["manifest"]["identity"], seen: Map<string, Client>): Plugin<never> {
  return {
    manifest: { name: p, version: "0.0.1", ...(identity !== undefined ? { identity } : {}) },
    start(ctx: PluginContext<never>) {
      seen.set(p, ctx.client);
    },
  } as Plugin<never>;
}

describe("PluginHost identities", () => {
  test("each plugin gets its identity's client; none declared or 'kernel' keeps the kernel's", async () => {
    const built: string[] = [];
    const h = host({
      nodeName: "n1",
      clientFor: (id, plugin) => {
        built.push(`${plugin} ${id.user} ${(id.groups ?? []).join(",")}`);
        return { name: id.user } as unknown as Client;
      },
    });
    const seen = new Map<string, Client>();
    h.register(
      [
        capturing("sched", { user: "system:kube-scheduler" }, seen),
        capturing("ctrl", serviceAccountIdentity("kube-system", "ctrl"), seen),
        capturing("agent", ({ nodeName }) => ({ user: `system:node:${nodeName}`, groups: ["system:nodes"] }), seen),
        capturing("admission", "kernel", seen),
        capturing("third-party", undefined, seen),
      ],
      new Map(),
    );
    await h.start();
    const names = Object.fromEntries([...seen].map(([p, c]) => [p, (c as unknown as { name: string }).name]));
    expect(names).toEqual({ sched: "system:kube-scheduler", ctrl: "system:serviceaccount:kube-system:ctrl", agent: "system:node:n1", admission: "kernel", "third-party": "kernel" });
    expect(built).toEqual([
      "sched system:kube-scheduler ",
      "ctrl system:serviceaccount:kube-system:ctrl system:serviceaccounts,system:serviceaccounts:kube-system",
      "agent system:node:n1 system:nodes",
    ]);
    expect(Object.fromEntries(h.status().map((s) => [s.name, s.user ?? null]))).toEqual({
      sched: "system:kube-scheduler",
      ctrl: "system:serviceaccount:kube-system:ctrl",
      agent: "system:node:n1",
      admission: null,
      "third-party": null,
    });
    // The container's Tokens.Client stays the kernel's (admission steps, register-time wiring).
    expect(h.container.resolve(Tokens.Client)).toBe(kernelClient);
    await h.stop();
  });

  test("without clientFor (an agent process) every plugin uses the host's client", async () => {
    const h = host();
    const seen = new Map<string, Client>();
    h.register([capturing("sched", { user: "system:kube-scheduler" }, seen)], new Map());
    await h.start();
    expect(seen.get("sched")).toBe(kernelClient);
    await h.stop();
  });

  test("a restarted plugin reuses its client; an identity without a user fails the plugin, not the host", async () => {
    let builds = 0;
    const h = host({ clientFor: (id) => (builds++, { name: id.user } as unknown as Client) });
    let starts = 0;
    const flaky = definePlugin({
      manifest: { name: "flaky", version: "0.0.1", identity: { user: "u" } },
      start() {
        if (++starts === 1) throw new Error("first start fails");
      },
    }) as Plugin<never>;
    const bad = definePlugin({ manifest: { name: "bad", version: "0.0.1", identity: () => ({ user: "" }) }, start() {} }) as Plugin<never>;
    h.register([flaky, bad], new Map());
    await h.start();
    const deadline = Date.now() + 3000;
    while (starts < 2 && Date.now() < deadline) await Bun.sleep(5);
    expect(starts).toBe(2);
    expect(builds).toBe(1);
    const badStatus = h.status().find((s) => s.name === "bad")!;
    expect(badStatus.state).toBe("failed");
    expect(badStatus.error).toBe('plugin "bad": identity must name a user');
    await h.stop();
  });

  test("userInfoOf adds system:authenticated once; resolveIdentity passes the node name", () => {
    expect(userInfoOf({ user: "a", groups: ["g", "system:authenticated"] })).toEqual({ name: "a", groups: ["g", "system:authenticated"] });
    expect(userInfoOf({ user: "a" })).toEqual({ name: "a", groups: ["system:authenticated"] });
    const manifest = { name: "x", version: "1", identity: ({ nodeName }: { nodeName?: string }) => ({ user: `system:node:${nodeName}` }) };
    expect(resolveIdentity(manifest, { nodeName: "n9", container: {} as never })).toEqual({ user: "system:node:n9" });
  });

  test("loggingForbidden warns with the plugin and its user on an authorization 403, and only then", async () => {
    const warned: unknown[] = [];
    const log = { warn: (o: unknown, msg: string) => warned.push({ ...(o as object), msg }) } as unknown as Logger;
    const denied = 'secrets "s" is forbidden: User "system:serviceaccount:kube-system:p" cannot get resource "secrets" in API group "" in the namespace "a"';
    const answers = [
      [200, "ok"],
      [403, denied],
      [403, 'events "" is forbidden: unable to create new content in namespace a because it is being terminated'],
      [404, "not found"],
    ] as const;
    let i = 0;
    const f = loggingForbidden(async () => Response.json({ kind: "Status", message: answers[i]![1] }, { status: answers[i++]![0] }), {
      plugin: "p",
      identity: { user: "system:serviceaccount:kube-system:p" },
      log,
    });
    for (let n = 0; n < answers.length; n++) {
      const res = await f(new Request("http://skiff.local/api/v1/namespaces/a/secrets/s?x=1", { method: "GET" }));
      // The caller still reads the body.
      expect(((await res.json()) as { message: string }).message).toBe(answers[n]![1]);
    }
    expect(warned).toEqual([{ plugin: "p", user: "system:serviceaccount:kube-system:p", method: "GET", url: "/api/v1/namespaces/a/secrets/s?x=1", reason: denied, msg: "plugin request forbidden" }]);
  });
});

describe("a plugin's requests in a secure kernel", () => {
  let k: Kernel;
  let dir: string;
  const outcome: Record<string, string> = {};
  const nosy = definePlugin({
    manifest: { name: "nosy", version: "0.0.1", identity: serviceAccountIdentity("kube-system", "nosy") },
    async start(ctx) {
      const attempt = async (what: string, f: () => Promise<unknown>) => {
        try {
          await f();
          outcome[what] = "allowed";
        } catch (e) {
          outcome[what] = isApiError(e) ? `${e.code} ${e.message}` : String(e);
        }
      };
      await attempt("read secret", () => ctx.client.get(SECRETS, "creds", { namespace: "default" }));
      await attempt("create configmap", () => ctx.client.create(CMS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "nosy", namespace: "default" } }));
    },
  }) as Plugin<never>;
  const legacy = definePlugin({
    manifest: { name: "legacy", version: "0.0.1" },
    async start(ctx) {
      await ctx.client.create(CMS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "legacy", namespace: "default" } });
    },
  }) as Plugin<never>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "skiff-identity-"));
    k = await createKernel({ memory: true, security: { enabled: true }, audit: { path: join(dir, "audit.log") }, plugins: { available: [nosy, legacy], preset: "server" } });
  });
  afterAll(async () => {
    await k.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("RBAC refuses what its identity was not granted, naming the plugin's user, and the audit log records it; no identity acts as the kernel", async () => {
    expect(outcome).toEqual({
      "read secret":
        '403 secrets "creds" is forbidden: User "system:serviceaccount:kube-system:nosy" cannot get resource "secrets" in API group "" in the namespace "default"',
      "create configmap":
        '403 configmaps is forbidden: User "system:serviceaccount:kube-system:nosy" cannot create resource "configmaps" in API group "" in the namespace "default"',
    });
    await k.audit!.flush();
    const lines = readFileSync(join(dir, "audit.log"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEvent);
    const refused = lines.filter((e) => e.responseStatus.code === 403);
    expect(refused.map((e) => ({ user: e.user.username, groups: e.user.groups, verb: e.verb, resource: e.objectRef?.resource, annotations: e.annotations }))).toEqual([
      {
        user: "system:serviceaccount:kube-system:nosy",
        groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
        verb: "create",
        resource: "configmaps",
        annotations: { "skiff.io/in-process": "true", "skiff.io/authenticator": "plugin" },
      },
    ]);
    // A plugin that declares no identity still acts as the kernel (with a warning at start).
    const legacyWrite = lines.find((e) => e.objectRef?.name === undefined && e.user.username === "system:skiff-kernel" && e.requestURI.includes("/configmaps"));
    expect(legacyWrite?.responseStatus.code).toBe(201);
  });
});
