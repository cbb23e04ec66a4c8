import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClusterPki, DAY_MS } from "./cluster-pki.ts";
import { certSha256, createCa, createCsr, inspectCert, loadSigner, parseCert, pemBody, readCsr, verifyClientCert, x509lib } from "./x509.ts";

const x509 = x509lib();

const sans = (pem: string) =>
  (parseCert(pem).getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? []).map((n) => `${n.type}:${n.value}`).sort();

describe("ClusterPki", () => {
  test("inspectCert (node:crypto) reads the same expiry and SANs as @peculiar/x509", async () => {
    const pki = await ClusterPki.open({ dnsNames: ["myhost"], ipAddresses: ["10.96.0.1", "fd00::7"] });
    const summary = inspectCert(pki.serving.cert);
    expect(summary.notAfter.getTime()).toBe(parseCert(pki.serving.cert).notAfter.getTime());
    expect([...summary.sans].sort()).toEqual(sans(pki.serving.cert));
    expect(summary.sans).toContain("ip:fd00::7");
  });

  test("creates CA, serving, admin and ServiceAccount keys as 0600 files, and reloads the same ones", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pki-"));
    try {
      const tls = join(dir, "tls");
      const pki = await ClusterPki.open({ dir: tls, dnsNames: ["myhost"], ipAddresses: ["10.96.0.1", "192.0.2.7"] });
      for (const f of ["ca.crt", "ca.key", "serving.crt", "serving.key", "admin.crt", "admin.key", "sa.key", "sa.pub"]) {
        expect(statSync(join(tls, f)).mode & 0o777).toBe(0o600);
      }
      expect(statSync(tls).mode & 0o777).toBe(0o700);
      const ca = parseCert(pki.ca);
      expect(ca.subject).toBe("CN=skiff-ca");
      expect(ca.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
      const caYears = (ca.notAfter.getTime() - ca.notBefore.getTime()) / (365 * DAY_MS);
      expect(caYears).toBeGreaterThan(9.9);
      expect(sans(pki.serving.cert)).toEqual(
        [
          "dns:localhost",
          "dns:kubernetes",
          "dns:kubernetes.default",
          "dns:kubernetes.default.svc",
          "dns:kubernetes.default.svc.cluster.local",
          "dns:myhost",
          "ip:127.0.0.1",
          "ip:10.96.0.1",
          "ip:192.0.2.7",
        ].sort(),
      );
      const serving = parseCert(pki.serving.cert);
      expect(Math.round((serving.notAfter.getTime() - serving.notBefore.getTime()) / DAY_MS)).toBe(365);
      expect(await serving.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
      const admin = parseCert(pki.admin.cert);
      expect(admin.subject).toBe("CN=skiff-admin, O=system:masters");
      expect((await verifyClientCert(pemBody(pki.admin.cert), ca)).ok).toBe(true);
      // The serving certificate is not for client authentication.
      expect(await verifyClientCert(pemBody(pki.serving.cert), ca)).toEqual({ ok: false, reason: "certificate specifies an incompatible key usage" });
      expect(pki.caHash).toBe(await certSha256(pki.ca));

      const again = await ClusterPki.open({ dir: tls, dnsNames: ["myhost"], ipAddresses: ["10.96.0.1", "192.0.2.7"] });
      expect(again.ca).toBe(pki.ca);
      expect(again.serving.cert).toBe(pki.serving.cert);
      expect(again.admin.cert).toBe(pki.admin.cert);
      expect(again.serviceAccountKey).toEqual(pki.serviceAccountKey);

      // A new listen address: the serving certificate is reissued, the rest kept.
      const moved = await ClusterPki.open({ dir: tls, dnsNames: ["myhost"], ipAddresses: ["10.96.0.1", "192.0.2.8"] });
      expect(moved.ca).toBe(pki.ca);
      expect(moved.serving.cert).not.toBe(pki.serving.cert);
      expect(sans(moved.serving.cert)).toContain("ip:192.0.2.8");
      expect(moved.admin.cert).toBe(pki.admin.cert);
      expect(readFileSync(join(tls, "serving.crt"), "utf8")).toBe(moved.serving.cert);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("renews leaves within the window, only then", async () => {
    let now = new Date("2030-01-01T00:00:00Z");
    const pki = await ClusterPki.open({ dnsNames: [], ipAddresses: [], validity: { leafMs: 100 * DAY_MS, renewBeforeMs: 10 * DAY_MS }, now: () => now });
    const first = { serving: pki.serving.cert, admin: pki.admin.cert };
    now = new Date(now.getTime() + 80 * DAY_MS);
    expect(await pki.renew()).toEqual({ serving: false, admin: false });
    now = new Date(now.getTime() + 15 * DAY_MS);
    expect(await pki.renew()).toEqual({ serving: true, admin: true });
    expect(pki.serving.cert).not.toBe(first.serving);
    expect(pki.serving.key).not.toBe(first.serving);
    expect(parseCert(pki.serving.cert).notAfter.getTime()).toBeGreaterThan(now.getTime() + 99 * DAY_MS);
    expect(await pki.renew()).toEqual({ serving: false, admin: false });
  });

  test("signs node CSRs; a certificate from another CA, an expired one, or a forged CSR are refused", async () => {
    const pki = await ClusterPki.open({ dnsNames: [], ipAddresses: [] });
    const { csr } = await createCsr("system:node:n1", ["system:nodes"]);
    const req = await readCsr(csr);
    expect(req.commonName).toBe("system:node:n1");
    expect(req.organizations).toEqual(["system:nodes"]);
    const cert = await pki.issueClient(req.publicKey, req.commonName, req.organizations);
    expect(parseCert(cert).subject).toBe("CN=system:node:n1, O=system:nodes");
    expect((await verifyClientCert(pemBody(cert), pki.caCert)).ok).toBe(true);
    expect(await verifyClientCert(pemBody(cert), pki.caCert, new Date(Date.now() + 400 * DAY_MS))).toEqual({ ok: false, reason: "certificate has expired" });

    const rogue = await loadSigner(await createCa({ commonName: "skiff-ca", validityMs: DAY_MS }));
    const { issue } = await import("./x509.ts");
    const other = await issue(rogue, { commonName: "mallory", organizations: ["system:masters"], usages: ["client"], validityMs: DAY_MS });
    expect(await verifyClientCert(pemBody(other.cert), pki.caCert)).toEqual({ ok: false, reason: "certificate signed by unknown authority" });

    // Tamper with the CSR's subject bytes: its signature no longer verifies.
    const der = pemBody(csr);
    const at = Buffer.from(der).indexOf(Buffer.from("n1"));
    der[at + 1] = "2".charCodeAt(0);
    const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(der).toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(readCsr(forged)).rejects.toThrow(/signature/);
  });

  test("keptLeaf reuses its certificate across restarts while it fits, and reissues when names change", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pki-kept-"));
    try {
      const tls = join(dir, "tls");
      const want = { commonName: "system:node:n1", organizations: ["system:nodes"], dnsNames: ["localhost", "n1"], ipAddresses: ["127.0.0.1", "fd00::9"], usages: ["server" as const] };
      const pki = await ClusterPki.open({ dir: tls, dnsNames: [], ipAddresses: [] });
      const first = await pki.keptLeaf("agent-serving", want);
      expect(statSync(join(tls, "agent-serving.key")).mode & 0o777).toBe(0o600);
      const again = await (await ClusterPki.open({ dir: tls, dnsNames: [], ipAddresses: [] })).keptLeaf("agent-serving", want);
      expect(again.cert).toBe(first.cert);
      const renamed = await pki.keptLeaf("agent-serving", { ...want, dnsNames: ["localhost", "n2"] });
      expect(renamed.cert).not.toBe(first.cert);
      expect(sans(renamed.cert)).toContain("dns:n2");
      // Another CA's certificate under that name is not reused.
      const other = await ClusterPki.open({ dnsNames: [], ipAddresses: [] });
      const foreign = await other.keptLeaf("x", want);
      const { writeFileSync } = await import("node:fs");
      writeFileSync(join(tls, "agent-serving.crt"), foreign.cert);
      writeFileSync(join(tls, "agent-serving.key"), foreign.key);
      const reissued = await pki.keptLeaf("agent-serving", { ...want, dnsNames: ["localhost", "n2"] });
      expect(reissued.cert).not.toBe(foreign.cert);
      expect((await verifyClientCert(pemBody(reissued.cert), pki.caCert)).ok).toBe(false); // a serving certificate, not a client one
      expect(inspectCert(reissued.cert).issuerIs(pki.ca)).toBe(true);
      expect(inspectCert(foreign.cert).issuerIs(pki.ca)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
