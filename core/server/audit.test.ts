import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import { createKernel } from "../kernel.ts";
import { type AuditEvent, AuditLog, objectRefOf } from "./audit.ts";
import { setRequestUser } from "./auth/types.ts";
import { RequestGuard } from "./hygiene.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "skiff-audit-"));
  dirs.push(d);
  return d;
}
function events(path: string): AuditEvent[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as AuditEvent);
}
const bunEnv = (ip: string) => ({ requestIP: () => ({ address: ip }) });

describe("objectRefOf", () => {
  test.each([
    ["/api/v1/namespaces/ns/pods/p/exec", { resource: "pods", namespace: "ns", name: "p", apiVersion: "v1", subresource: "exec" }],
    ["/apis/apps/v1/namespaces/ns/deployments", { resource: "deployments", namespace: "ns", apiGroup: "apps", apiVersion: "v1" }],
    ["/api/v1/namespaces/ns", { resource: "namespaces", name: "ns", apiVersion: "v1" }],
    ["/api/v1/nodes/n1/status", { resource: "nodes", name: "n1", apiVersion: "v1", subresource: "status" }],
    ["/version", undefined],
  ])("%s", (path, want) => {
    expect(objectRefOf(path)).toEqual(want as ReturnType<typeof objectRefOf>);
  });
});

describe("AuditLog", () => {
  test("one Metadata-level Event per mutating request, with the Audit-Id header; reads are not logged", async () => {
    const path = join(tmp(), "audit", "audit.log");
    const audit = new AuditLog({ path });
    const h = audit.wrap(
      new RequestGuard().wrap((req) => {
        if (req.headers.get("authorization")) setRequestUser(req, { user: { name: "alice", uid: "u1", groups: ["dev", "system:authenticated"] }, authenticator: "token" });
        return new Response("{}", { status: req.method === "POST" ? 201 : req.method === "DELETE" ? 200 : 200 });
      }),
    );
    const body = JSON.stringify({ metadata: { name: "s" }, data: { password: "c2VjcmV0" } });
    const created = await h(
      new Request("http://x/api/v1/namespaces/ns/secrets?fieldManager=kubectl", {
        method: "POST",
        headers: { "user-agent": "kubectl/v1.32.4", authorization: "Bearer t", "content-type": "application/json" },
        body,
      }),
      bunEnv("192.0.2.7"),
    );
    expect(created.status).toBe(201);
    const id = created.headers.get("audit-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const read = await h(new Request("http://x/api/v1/namespaces/ns/secrets/s"), bunEnv("192.0.2.7"));
    expect(read.headers.get("audit-id")).toMatch(/^[0-9a-f-]{36}$/);
    await h(new Request("http://x/api/v1/namespaces/ns/secrets", { method: "DELETE", headers: { "audit-id": "client-chosen-1" } }), bunEnv("192.0.2.8"));
    await h(new Request("http://x/api/v1/namespaces/ns/pods/p/exec?command=sh", { headers: { upgrade: "websocket" } }), bunEnv("192.0.2.8"));
    await audit.close();

    const ev = events(path);
    expect(ev.map((e) => e.verb)).toEqual(["create", "deletecollection", "get"]);
    const [c, dc, ex] = ev as [AuditEvent, AuditEvent, AuditEvent];
    expect(c).toMatchObject({
      kind: "Event",
      apiVersion: "audit.k8s.io/v1",
      level: "Metadata",
      auditID: id!,
      stage: "ResponseComplete",
      requestURI: "/api/v1/namespaces/ns/secrets?fieldManager=kubectl",
      user: { username: "alice", uid: "u1", groups: ["dev", "system:authenticated"] },
      sourceIPs: ["192.0.2.7"],
      userAgent: "kubectl/v1.32.4",
      objectRef: { resource: "secrets", namespace: "ns", apiVersion: "v1" },
      responseStatus: { code: 201 },
      annotations: { "skiff.io/authenticator": "token" },
    });
    expect(Date.parse(c.stageTimestamp)).toBeGreaterThanOrEqual(Date.parse(c.requestReceivedTimestamp));
    // Metadata level: no bodies.
    expect(readFileSync(path, "utf8")).not.toContain("c2VjcmV0");
    expect(dc.auditID).toBe("client-chosen-1");
    expect(dc.user).toEqual({ username: "system:anonymous", groups: ["system:unauthenticated"] });
    expect(ex.objectRef?.subresource).toBe("exec");
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("rotation by size keeps at most maxBackups files", async () => {
    const path = join(tmp(), "audit.log");
    const audit = new AuditLog({ path, maxSizeMB: 2 / 1024, maxBackups: 2 });
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 8; i++) audit.write(`${JSON.stringify({ round, i, pad: "x".repeat(200) })}\n`);
      await audit.flush();
    }
    await audit.close();
    expect(audit.backups().length).toBe(2);
    expect(statSync(path).size).toBeLessThanOrEqual(2048);
    for (const f of [...audit.backups(), path]) for (const line of readFileSync(f, "utf8").trim().split("\n")) expect(JSON.parse(line).pad).toHaveLength(200);
  });

  test("a disk error never fails the request: the line is dropped and a warning logged", async () => {
    const dir = tmp();
    const path = join(dir, "audit.log");
    mkdirSync(path); // a directory where the file should be: every append fails
    const warnings: string[] = [];
    const log = { warn: (_o: unknown, msg: string) => void warnings.push(msg), error: () => {} } as unknown as Logger;
    const audit = new AuditLog({ path }, log);
    const h = audit.wrap(() => new Response("{}", { status: 201 }));
    const r = await h(new Request("http://x/api/v1/namespaces/ns/configmaps", { method: "POST", body: "{}" }));
    expect(r.status).toBe(201);
    await audit.flush();
    expect(audit.dropped).toBe(1);
    expect(warnings).toEqual(["audit log write failed; lines dropped"]);
    await audit.close();
  });

  test("a kernel audits its own controllers' writes, marked in-process", async () => {
    const dir = tmp();
    const kernel = await createKernel({ memory: true, audit: { path: join(dir, "audit.log") } });
    try {
      await kernel.client.create({ group: "", version: "v1", resource: "configmaps" }, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" }, data: {} });
      await kernel.audit!.flush();
      const ev = events(join(dir, "audit.log")).find((e) => e.objectRef?.resource === "configmaps");
      expect(ev).toMatchObject({ verb: "create", userAgent: "skiff-kernel", sourceIPs: [], annotations: { "skiff.io/in-process": "true" }, responseStatus: { code: 201 } });
    } finally {
      await kernel.stop();
    }
  });
});
