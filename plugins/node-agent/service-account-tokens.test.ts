/** @module The agent's ServiceAccount token manager on a fake clock: kubelet's refresh rule (80 % of the lifetime, or 24 h), binding, caching, forgetting. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError } from "../../core/api/errors.ts";
import type { Client } from "../../core/client/types.ts";
import { refreshAt, requiresRefresh, ServiceAccountTokenManager } from "./service-account-tokens.ts";
import type { Pod } from "./types.ts";
import { setUpVolumes } from "./volumes.ts";

const H = 3600_000;

/** A client whose TokenRequests are recorded and answered with `exp = now + expirationSeconds`. */
function fakeApi(now: () => number) {
  const calls: { sa: string; namespace?: string; spec: Record<string, unknown> }[] = [];
  let fail = false;
  const client = {
    async createSubresource(_ref: unknown, name: string, sub: string, body: { spec: { expirationSeconds: number } }, opts?: { namespace?: string }) {
      expect(sub).toBe("token");
      if (fail) throw new Error("the server is away");
      calls.push({ sa: name, ...(opts?.namespace ? { namespace: opts.namespace } : {}), spec: body.spec });
      const exp = new Date(now() + body.spec.expirationSeconds * 1000).toISOString();
      return { status: { token: `token-${calls.length}`, expirationTimestamp: exp } };
    },
  } as unknown as Client;
  return { client, calls, setFail: (f: boolean) => (fail = f) };
}

const pod = (uid = "uid-1"): Pod => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "apps", uid }, spec: { serviceAccountName: "robot", containers: [] } });

describe("requiresRefresh (kubelet's rule)", () => {
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  test("a one-hour token: after 80 % of its lifetime", () => {
    const tok = { expirationSeconds: 3600, expiresAt: t0 + H };
    expect(refreshAt(tok)).toBe(t0 + 0.8 * H);
    expect(requiresRefresh(tok, t0 + 0.79 * H)).toBe(false);
    expect(requiresRefresh(tok, t0 + 0.8 * H)).toBe(true);
    // Jitter brings it forward by up to 10 s.
    expect(requiresRefresh(tok, t0 + 0.8 * H - 5_000, 10_000)).toBe(true);
  });
  test("a two-day token: after 24 h, not at 80 %", () => {
    const tok = { expirationSeconds: 48 * 3600, expiresAt: t0 + 48 * H };
    expect(refreshAt(tok)).toBe(t0 + 24 * H);
    expect(requiresRefresh(tok, t0 + 23.9 * H)).toBe(false);
    expect(requiresRefresh(tok, t0 + 24 * H)).toBe(true);
  });
});

describe("ServiceAccountTokenManager", () => {
  test("one bound TokenRequest, reused until 80 % of its life, then a new one; forgotten with the pod", async () => {
    let clock = Date.parse("2026-01-01T00:00:00Z");
    const api = fakeApi(() => clock);
    const m = new ServiceAccountTokenManager({ client: api.client, now: () => clock, random: () => 0 });
    expect(await m.token(pod(), { serviceAccount: "robot" })).toBe("token-1");
    expect(api.calls).toEqual([
      {
        sa: "robot",
        namespace: "apps",
        spec: { audiences: [], expirationSeconds: 3607, boundObjectRef: { apiVersion: "v1", kind: "Pod", name: "web", uid: "uid-1" } },
      },
    ]);
    expect(m.refreshIn("uid-1")).toBe(Math.round(3607 * 0.8 * 1000));
    clock += 2885_000; // 79.99 %
    expect(await m.token(pod(), { serviceAccount: "robot" })).toBe("token-1");
    clock += 1_000;
    expect(m.refreshIn("uid-1")).toBeLessThanOrEqual(0);
    expect(await m.token(pod(), { serviceAccount: "robot" })).toBe("token-2");
    expect(api.calls.length).toBe(2);
    // Another audience is another token.
    expect(await m.token(pod(), { serviceAccount: "robot", audience: "vault", expirationSeconds: 600 })).toBe("token-3");
    expect(api.calls[2]!.spec).toMatchObject({ audiences: ["vault"], expirationSeconds: 600 });
    expect(m.refreshIn("uid-1")).toBe(480_000);
    m.forgetPod("uid-1");
    expect(m.size).toBe(0);
    expect(m.refreshIn("uid-1")).toBeUndefined();
  });

  test("a failed refresh keeps the old token while it is valid, then fails", async () => {
    let clock = 0;
    const api = fakeApi(() => clock);
    const m = new ServiceAccountTokenManager({ client: api.client, now: () => clock, random: () => 0 });
    expect(await m.token(pod(), { serviceAccount: "robot", expirationSeconds: 1000 })).toBe("token-1");
    api.setFail(true);
    clock = 900_000;
    expect(await m.token(pod(), { serviceAccount: "robot", expirationSeconds: 1000 })).toBe("token-1");
    clock = 1_000_001;
    await expect(m.token(pod(), { serviceAccount: "robot", expirationSeconds: 1000 })).rejects.toThrow("the server is away");
  });

  test("a Forbidden right after the pod appeared (the Node authorizer's cache lags) is retried; one that persists is the error", async () => {
    let refusals = 2;
    let calls = 0;
    const client = {
      async createSubresource() {
        calls++;
        if (refusals-- > 0) throw new ApiError({ reason: "Forbidden", message: "no relationship found between node 'n1' and this object" });
        return { status: { token: "late-token", expirationTimestamp: new Date(Date.now() + 3607_000).toISOString() } };
      },
    } as unknown as Client;
    const m = new ServiceAccountTokenManager({ client });
    expect(await m.token(pod(), { serviceAccount: "robot" })).toBe("late-token");
    expect(calls).toBe(3);
    refusals = 100;
    calls = 0;
    await expect(m.token(pod("uid-2"), { serviceAccount: "robot" })).rejects.toThrow("no relationship found");
    expect(calls).toBe(4);
  });

  test("the projected volume gets the token file with the volume's mode", async () => {
    const dir = mkdtempSync(join(tmpdir(), "skiff-sat-"));
    try {
      let clock = 0;
      const api = fakeApi(() => clock);
      const m = new ServiceAccountTokenManager({ client: api.client, now: () => clock, random: () => 0 });
      const p: Pod = {
        ...pod(),
        spec: {
          serviceAccountName: "robot",
          containers: [],
          volumes: [{ name: "kube-api-access-x", projected: { defaultMode: 0o640, sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 3607 } }] } }],
        },
      };
      const sources = { configMap: async () => null, secret: async () => null, serviceAccountToken: (q: Pod, pr: { serviceAccount: string }) => m.token(q, pr) };
      const vols = await setUpVolumes(p, dir, { podIPs: [], hostIPs: [], allocatable: {} } as never, sources);
      const file = join(vols.get("kube-api-access-x")!, "token");
      expect(readFileSync(file, "utf8")).toBe("token-1");
      expect(statSync(file).mode & 0o777).toBe(0o640);
      clock += 3000_000;
      await setUpVolumes(p, dir, { podIPs: [], hostIPs: [], allocatable: {} } as never, sources);
      expect(readFileSync(file, "utf8")).toBe("token-2");
      // Below the API's minimum lifetime: a config error, no request.
      p.spec.volumes![0]!.projected!.sources![0]!.serviceAccountToken!.expirationSeconds = 599;
      await expect(setUpVolumes(p, dir, {} as never, sources)).rejects.toThrow("at least 600");
      expect(api.calls.length).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
