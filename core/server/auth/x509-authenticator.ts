/**
 * @module Client certificates: a chain verified against the cluster CA
 * authenticates its leaf's CN as the user and its O values as groups
 * (kube-apiserver's `--client-ca-file`). The transport hands over what the
 * client presented (`ConnectionInfo.peerCertificates`); the check against
 * the CA is made here, whatever the runtime's TLS stack did.
 */
import { ApiError } from "../../api/errors.ts";
import { subjectOf, verifyClientCert } from "../pki/x509.ts";
import type { x509 } from "../pki/x509.ts";
import { type AuthenticationResult, type Authenticator, type ConnectionInfo, Groups } from "./types.ts";

export class X509Authenticator implements Authenticator {
  readonly name = "x509";
  /**
   * Verified leaves by their DER bytes object: serve.ts hands the same bytes
   * for every request of a connection (on Bun, of every connection of the
   * same peer), so a keep-alive client pays for the signature check once;
   * validity dates are re-checked per request.
   */
  readonly #verified = new WeakMap<Uint8Array, { ca: x509.X509Certificate; notBefore: number; notAfter: number; result: AuthenticationResult }>();

  /** `ca()` is read per request, so a CA reload needs no rebuild. */
  constructor(private readonly ca: () => x509.X509Certificate) {}

  async authenticate(_req: Request, conn: ConnectionInfo): Promise<AuthenticationResult | null> {
    const leaf = conn.peerCertificates?.[0];
    if (!leaf) return null;
    const ca = this.ca();
    const hit = this.#verified.get(leaf);
    const now = Date.now();
    if (hit && hit.ca === ca && now >= hit.notBefore && now <= hit.notAfter) return hit.result;
    const v = await verifyClientCert(leaf, ca);
    if (!v.ok) throw new ApiError({ reason: "Unauthorized", message: `Unauthorized: x509: ${v.reason}` });
    const { commonName, organizations } = subjectOf(v.cert.subjectName);
    if (!commonName) throw new ApiError({ reason: "Unauthorized", message: "Unauthorized: x509: the certificate has no common name" });
    const result = { user: { name: commonName, groups: [...new Set([...organizations, Groups.authenticated])] }, authenticator: this.name };
    this.#verified.set(leaf, { ca, notBefore: v.cert.notBefore.getTime(), notAfter: v.cert.notAfter.getTime(), result });
    return result;
  }
}
