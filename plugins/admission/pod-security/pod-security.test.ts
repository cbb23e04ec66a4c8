/** @module PodSecurity: the checks table-driven (upstream's messages), and the admission step on an in-memory kernel. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import { createKernel, type Kernel } from "../../../core/kernel.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { NAMESPACES, type PodSpec, PODS } from "../common.ts";
import { createPodSecurityPlugin, evaluatePod, formatResults, labelCauses, namespacePolicy } from "./index.ts";

const restrictedOk = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
  containers: [{ name: "c", image: "i", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }],
};
const c = (securityContext: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ name: "c", image: "i", securityContext, ...extra });

describe("checks", () => {
  const cases: [string, "baseline" | "restricted", Record<string, unknown>, string][] = [
    ["an ordinary pod passes baseline", "baseline", { containers: [{ name: "c", image: "i" }] }, ""],
    ["privileged", "baseline", { containers: [c({ privileged: true })] }, 'privileged (container "c" must not set securityContext.privileged=true)'],
    ["host namespaces", "baseline", { hostNetwork: true, hostPID: true, containers: [{ name: "c" }] }, "host namespaces (hostNetwork=true, hostPID=true)"],
    ["hostPath volumes", "baseline", { volumes: [{ name: "h", hostPath: { path: "/" } }, { name: "g", hostPath: { path: "/x" } }], containers: [{ name: "c" }] }, 'hostPath volumes (volumes "h", "g")'],
    ["host ports", "baseline", { containers: [{ name: "a", ports: [{ containerPort: 80, hostPort: 8080 }] }] }, 'hostPort (container "a" uses hostPort 8080)'],
    ["capabilities beyond the default set", "baseline", { containers: [c({ capabilities: { add: ["NET_ADMIN", "CHOWN", "SYS_TIME"] } })] }, 'non-default capabilities (container "c" must not include "NET_ADMIN", "SYS_TIME" in securityContext.capabilities.add)'],
    ["unconfined seccomp", "baseline", { securityContext: { seccompProfile: { type: "Unconfined" } }, containers: [{ name: "c" }] }, 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")'],
    ["unsafe sysctls", "baseline", { securityContext: { sysctls: [{ name: "kernel.msgmax", value: "1" }, { name: "net.ipv4.tcp_syncookies", value: "1" }] }, containers: [{ name: "c" }] }, "forbidden sysctls (kernel.msgmax)"],
    ["unmasked procMount", "baseline", { containers: [c({ procMount: "Unmasked" })] }, 'procMount (container "c" must not set securityContext.procMount to "Unmasked")'],
    ["a compliant pod passes restricted", "restricted", restrictedOk, ""],
    [
      "an ordinary pod fails restricted four ways, in upstream's order",
      "restricted",
      { containers: [{ name: "c", image: "i" }] },
      'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    ],
    [
      "baseline checks come first at restricted",
      "restricted",
      { ...restrictedOk, hostNetwork: true, containers: [c({ privileged: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } })] },
      'host namespaces (hostNetwork=true), privileged (container "c" must not set securityContext.privileged=true)',
    ],
    ["restricted volume types", "restricted", { ...restrictedOk, volumes: [{ name: "n", nfs: { server: "s", path: "/" } }, { name: "e", emptyDir: {} }] }, 'restricted volume types (volume "n" uses restricted volume type "nfs")'],
    ["runAsNonRoot false on the pod and a container", "restricted", { ...restrictedOk, securityContext: { runAsNonRoot: false, seccompProfile: { type: "RuntimeDefault" } }, containers: [c({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: false })] }, 'runAsNonRoot != true (pod and container "c" must not set securityContext.runAsNonRoot=false)'],
    ["runAsUser 0", "restricted", { ...restrictedOk, containers: [c({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsUser: 0 })] }, 'runAsUser=0 (container "c" must not set runAsUser=0)'],
    ["added capabilities beyond NET_BIND_SERVICE", "restricted", { ...restrictedOk, containers: [c({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE", "CHOWN"] } })] }, 'unrestricted capabilities (container "c" must not include "CHOWN" in securityContext.capabilities.add)'],
    ["two containers", "restricted", { ...restrictedOk, containers: [{ name: "a" }, { name: "b", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }, { name: "d" }] }, 'allowPrivilegeEscalation != false (containers "a", "d" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (containers "a", "d" must set securityContext.capabilities.drop=["ALL"])'],
  ];
  test.each(cases)("%s", (_l, level, spec, want) => {
    expect(formatResults(evaluatePod(level, {}, spec as PodSpec))).toBe(want);
  });
  test("privileged allows everything", () => {
    expect(evaluatePod("privileged", {}, { hostNetwork: true, containers: [c({ privileged: true })] } as PodSpec)).toEqual([]);
  });
  test("labels: invalid values are named; the policy falls back to defaults or fails closed", () => {
    expect(labelCauses({ "pod-security.kubernetes.io/enforce": "strict", "pod-security.kubernetes.io/warn-version": "1.25" })).toEqual([
      { reason: "FieldValueInvalid", field: "metadata.labels[pod-security.kubernetes.io/enforce]", message: 'Invalid value: "strict": must be one of privileged, baseline, restricted' },
      { reason: "FieldValueInvalid", field: "metadata.labels[pod-security.kubernetes.io/warn-version]", message: 'Invalid value: "1.25": must be "latest" or "v1.x"' },
    ]);
    const d = { enforce: "privileged", "enforce-version": "latest", audit: "privileged", "audit-version": "latest", warn: "baseline", "warn-version": "latest" } as const;
    expect(namespacePolicy({ "pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.30" }, d)).toEqual({
      enforce: { level: "baseline", version: "v1.30" },
      audit: { level: "privileged", version: "latest" },
      warn: { level: "baseline", version: "latest" },
    });
    expect(namespacePolicy({ "pod-security.kubernetes.io/enforce": "bogus" }, d).enforce).toEqual({ level: "restricted", version: "latest" });
  });
});

describe("admission", () => {
  let kernel: Kernel;
  beforeAll(async () => {
    kernel = await createKernel({ memory: true, plugins: { available: [createPodSecurityPlugin()] as Plugin<never>[], preset: "server" } });
    await kernel.client.create(NAMESPACES, { metadata: { name: "locked", labels: { "pod-security.kubernetes.io/enforce": "restricted" } } });
    await kernel.client.create(NAMESPACES, { metadata: { name: "warned", labels: { "pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "v1.31" } } });
  });
  afterAll(() => kernel.stop());

  async function create(ns: string, name: string, spec: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown>; warning: string | null }> {
    const res = await kernel.api.app.fetch(
      new Request(`http://skiff.local/api/v1/namespaces/${ns}/pods`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ metadata: { name }, spec }) }),
    );
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, warning: res.headers.get("warning") };
  }

  test("enforce refuses with upstream's message; a compliant pod is admitted", async () => {
    const r = await create("locked", "priv", { containers: [{ name: "c", image: "i", securityContext: { privileged: true } }] });
    expect(r.status).toBe(403);
    expect(r.body.reason).toBe("Forbidden");
    expect(r.body.message).toBe(
      'pods "priv" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    const ok = await create("locked", "fine", restrictedOk);
    expect(ok.status).toBe(201);
    expect(ok.warning).toBeNull();
  });

  test("warn admits with a Warning header naming the version; enforce still applies", async () => {
    const r = await create("warned", "plain", { containers: [{ name: "c", image: "i" }] });
    expect(r.status).toBe(201);
    expect(r.warning).toContain('299 - "would violate PodSecurity \\"restricted:v1.31\\": allowPrivilegeEscalation != false');
    const host = await create("warned", "host", { hostPID: true, containers: [{ name: "c", image: "i" }] });
    expect(host.status).toBe(403);
    expect(host.body.message).toBe('pods "host" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostPID=true)');
  });

  test("workload resources get warnings, not refusals", async () => {
    const res = await kernel.api.app.fetch(
      new Request("http://skiff.local/apis/apps/v1/namespaces/locked/deployments", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ metadata: { name: "d" }, spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i" }] } } } }),
      }),
    );
    expect(res.status).toBe(201);
    // Only the warn level (privileged here) is evaluated for templates.
    expect(res.headers.get("warning")).toBeNull();
    const w = await kernel.api.app.fetch(
      new Request("http://skiff.local/apis/apps/v1/namespaces/warned/deployments", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ metadata: { name: "d" }, spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i" }] } } } }),
      }),
    );
    expect(w.status).toBe(201);
    expect(w.headers.get("warning")).toContain("would violate PodSecurity");
  });

  test("invalid labels are refused; a stricter enforce level warns about existing pods", async () => {
    try {
      await kernel.client.create(NAMESPACES, { metadata: { name: "typo", labels: { "pod-security.kubernetes.io/enforce": "strict" } } });
      throw new Error("admitted");
    } catch (e) {
      if (!isApiError(e)) throw e;
      expect(e.code).toBe(422);
      expect(e.message).toContain('metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted');
    }
    await kernel.client.create(NAMESPACES, { metadata: { name: "open" } });
    await create("open", "p1", { containers: [{ name: "c", image: "i" }] });
    await create("open", "p2", { containers: [{ name: "c", image: "i" }] });
    const res = await kernel.api.app.fetch(
      new Request("http://skiff.local/api/v1/namespaces/open", {
        method: "PATCH",
        headers: { "content-type": "application/merge-patch+json" },
        body: JSON.stringify({ metadata: { labels: { "pod-security.kubernetes.io/enforce": "restricted" } } }),
      }),
    );
    expect(res.status).toBe(200);
    const warning = res.headers.get("warning") ?? "";
    expect(warning).toContain('existing pods in namespace \\"open\\" violate the new PodSecurity enforce level \\"restricted:latest\\"');
    expect(warning).toContain("p1 (and 1 other pod): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile");
    // The pods stay.
    expect((await kernel.client.list<KubeObject>(PODS, { namespace: "open" })).items.length).toBe(2);
  });
});
