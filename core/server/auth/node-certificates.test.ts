/** @module The node certificate endpoint's serving usage: only a node for itself, names that are the API server's left out. */
import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { ClusterPki } from "../pki/cluster-pki.ts";
import { createCsr } from "../pki/x509.ts";
import { NODE_CERTIFICATE_PATH, nodeJoinEndpoints } from "./node-certificates.ts";
import type { AuthenticationResult } from "./types.ts";

// As cluster-security.ts opens it: the listen address and the `kubernetes` Service IP among the serving names.
const pki = await ClusterPki.open({ dnsNames: ["api.example"], ipAddresses: ["10.0.0.2", "10.96.0.1"] });
const endpoint = nodeJoinEndpoints(pki).find((e) => e.path === NODE_CERTIFICATE_PATH)!;
const node = (name: string): AuthenticationResult => ({ user: { name: `system:node:${name}`, groups: ["system:nodes", "system:authenticated"] }, authenticator: "x509" });
const bootstrapper: AuthenticationResult = { user: { name: "system:bootstrap:abcdef", groups: ["system:bootstrappers", "system:authenticated"] }, authenticator: "bootstrap" };

async function ask(who: AuthenticationResult, body: Record<string, unknown>): Promise<{ status: number; body: { certificate?: string; message?: string } }> {
  try {
    const res = await endpoint.handle(new Request(`https://x${NODE_CERTIFICATE_PATH}`, { method: "POST", body: JSON.stringify(body) }), who);
    return { status: res.status, body: (await res.json()) as { certificate?: string } };
  } catch (e) {
    return { status: (e as { code?: number }).code ?? 500, body: { message: (e as Error).message } };
  }
}

describe("serving certificates for agent endpoints", () => {
  test("a node gets one for itself: serverAuth, its node name, its addresses but none of the API server's names", async () => {
    const { csr } = await createCsr("system:node:n1", ["system:nodes"]);
    const r = await ask(node("n1"), {
      csr,
      usage: "serving",
      dnsNames: ["n1", "n1.lan", "kubernetes.default.svc", "localhost", "api.example"],
      ipAddresses: ["192.168.1.7", "127.0.0.1", "10.96.0.1", "10.0.0.2", "not-an-ip"],
    });
    expect(r.status).toBe(201);
    const c = new X509Certificate(r.body.certificate!);
    expect(c.subject).toContain("CN=system:node:n1");
    expect(c.subjectAltName).toBe("DNS:n1, DNS:n1.lan, IP Address:192.168.1.7");
    expect(c.verify(new X509Certificate(pki.ca).publicKey)).toBe(true);
    expect(c.toLegacyObject().ext_key_usage).toEqual(["1.3.6.1.5.5.7.3.1"]);
  });

  test("not for another node, and not with a bootstrap token", async () => {
    const { csr } = await createCsr("system:node:n2", ["system:nodes"]);
    expect((await ask(node("n1"), { csr, usage: "serving" })).status).toBe(403);
    expect((await ask(bootstrapper, { csr, usage: "serving" })).status).toBe(403);
    expect((await ask(node("n1"), { csr, usage: "peer" })).status).toBe(400);
  });
});
