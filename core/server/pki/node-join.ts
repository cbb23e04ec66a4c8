/**
 * @module The agent's side of joining a secure server (`skiff agent --server
 * https://… --token K10<hash>::<id>.<secret>`):
 *
 * 1. fetch the server's CA (`GET /cacerts`, unverified, no credentials, its own
 *    connection) and check its SHA-256 against the token's hash — a mismatch
 *    stops here, before the secret has been sent anywhere;
 * 2. with the CA pinned, send a PKCS#10 request for `CN=system:node:<node>,
 *    O=system:nodes` and the bootstrap token to the node certificate endpoint;
 * 3. keep CA, key and certificate under `<stateDir>/tls/` (0600) and use them
 *    from then on; a later start reuses them while the CA still matches the
 *    token and the certificate has more than a tenth of its life left.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseJoinToken } from "../auth/bootstrap-tokens.ts";
import { NODE_CERTIFICATE_PATH } from "../auth/node-certificates.ts";
import { type ClientTls, fetchCaUnverified, tlsFetch } from "./tls-client.ts";
import { certSha256, createCsr, parseCert } from "./x509.ts";

export class JoinError extends Error {}

export interface JoinResult extends Required<ClientTls> {
  /** Whether a new certificate was requested (false: the stored one was reused). */
  issued: boolean;
}

export async function joinCluster(o: { server: string; token: string; nodeName: string; stateDir: string; now?: Date }): Promise<JoinResult> {
  const jt = parseJoinToken(o.token);
  if (!jt) throw new JoinError("--token: expected a join token K10<ca sha256>::<id>.<secret> (the server writes it to <data-dir>/token)");
  const dir = join(o.stateDir, "tls");
  const files = { ca: join(dir, "ca.crt"), cert: join(dir, "node.crt"), key: join(dir, "node.key") };
  const now = o.now ?? new Date();
  if (existsSync(files.ca) && existsSync(files.cert) && existsSync(files.key)) {
    const stored = { ca: readFileSync(files.ca, "utf8"), cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") };
    const c = parseCert(stored.cert);
    const life = c.notAfter.getTime() - c.notBefore.getTime();
    const fresh = c.notAfter.getTime() - now.getTime() > life / 10;
    if ((await certSha256(stored.ca)) === jt.caHash && fresh && c.subject.includes(`CN=system:node:${o.nodeName}`)) return { ...stored, issued: false };
  }
  let ca: string;
  try {
    ca = await fetchCaUnverified(o.server);
  } catch (e) {
    throw new JoinError(`cannot fetch the server's CA from ${o.server}/cacerts: ${(e as Error).message}`);
  }
  let hash: string;
  try {
    hash = await certSha256(ca);
  } catch {
    throw new JoinError(`${o.server}/cacerts did not answer a PEM certificate; refusing to send credentials`);
  }
  if (hash !== jt.caHash) {
    throw new JoinError(`the server's CA (sha256 ${hash.slice(0, 16)}…) does not match the join token's (${jt.caHash.slice(0, 16)}…); refusing to send credentials`);
  }
  const { csr, key } = await createCsr(`system:node:${o.nodeName}`, ["system:nodes"]);
  const f = tlsFetch({ ca });
  let res: Response;
  try {
    res = await f(
      new Request(new URL(NODE_CERTIFICATE_PATH, o.server), {
        method: "POST",
        headers: { authorization: `Bearer ${jt.id}.${jt.secret}`, "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ csr }),
      }),
    );
  } catch (e) {
    throw new JoinError(`cannot reach ${o.server}: ${(e as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as { certificate?: string; message?: string };
  if (!res.ok || !body.certificate) throw new JoinError(`the server refused the join token: ${body.message ?? `HTTP ${res.status}`}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (file: string, text: string) => {
    writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  };
  write(files.key, key);
  write(files.cert, body.certificate);
  write(files.ca, ca);
  return { ca, cert: body.certificate, key, issued: true };
}
