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
 *    token and the certificate has more than a tenth of its life left;
 * 4. with that client certificate, ask for the agent endpoint's serving
 *    certificate (`usage: "serving"`, SANs for the node's names and
 *    addresses; `serving.crt` / `serving.key`), reused the same way.
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
  /** The agent endpoint's serving certificate and key (PEM), signed by the cluster CA. */
  serving: { cert: string; key: string };
}

export interface JoinOptions {
  server: string;
  token: string;
  nodeName: string;
  stateDir: string;
  /** Names and addresses for the serving certificate (default: the node name). */
  servingNames?: { dnsNames: string[]; ipAddresses: string[] };
  now?: Date;
}

export async function joinCluster(o: JoinOptions): Promise<JoinResult> {
  const client = await joinClient(o);
  const serving = await servingCertificate(o, client);
  return { ...client, serving };
}

/** A stored pair still good: signed for `cn`, more than a tenth of its life left. */
function reusable(cert: string, cn: string, now: Date): boolean {
  const c = parseCert(cert);
  const life = c.notAfter.getTime() - c.notBefore.getTime();
  return c.notAfter.getTime() - now.getTime() > life / 10 && c.subject.includes(`CN=${cn}`);
}

async function servingCertificate(o: JoinOptions, client: Omit<JoinResult, "serving">): Promise<{ cert: string; key: string }> {
  const dir = join(o.stateDir, "tls");
  const files = { cert: join(dir, "serving.crt"), key: join(dir, "serving.key") };
  const cn = `system:node:${o.nodeName}`;
  if (!client.issued && existsSync(files.cert) && existsSync(files.key)) {
    const stored = { cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") };
    if (reusable(stored.cert, cn, o.now ?? new Date())) return stored;
  }
  const { csr, key } = await createCsr(cn, ["system:nodes"]);
  const names = o.servingNames ?? { dnsNames: [o.nodeName], ipAddresses: [] };
  let res: Response;
  try {
    res = await tlsFetch(client)(
      new Request(new URL(NODE_CERTIFICATE_PATH, o.server), {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ csr, usage: "serving", dnsNames: names.dnsNames, ipAddresses: names.ipAddresses }),
      }),
    );
  } catch (e) {
    throw new JoinError(`cannot reach ${o.server}: ${(e as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as { certificate?: string; message?: string };
  if (!res.ok || !body.certificate) throw new JoinError(`the server refused a serving certificate for the agent endpoint: ${body.message ?? `HTTP ${res.status}`}`);
  writePrivate(files.key, key);
  writePrivate(files.cert, body.certificate);
  return { cert: body.certificate, key };
}

function writePrivate(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

async function joinClient(o: JoinOptions): Promise<Omit<JoinResult, "serving">> {
  const jt = parseJoinToken(o.token);
  if (!jt) throw new JoinError("--token: expected a join token K10<ca sha256>::<id>.<secret> (the server writes it to <data-dir>/token)");
  const dir = join(o.stateDir, "tls");
  const files = { ca: join(dir, "ca.crt"), cert: join(dir, "node.crt"), key: join(dir, "node.key") };
  const now = o.now ?? new Date();
  if (existsSync(files.ca) && existsSync(files.cert) && existsSync(files.key)) {
    const stored = { ca: readFileSync(files.ca, "utf8"), cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") };
    if ((await certSha256(stored.ca)) === jt.caHash && reusable(stored.cert, `system:node:${o.nodeName}`, now)) return { ...stored, issued: false };
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
  writePrivate(files.key, key);
  writePrivate(files.cert, body.certificate);
  writePrivate(files.ca, ca);
  return { ca, cert: body.certificate, key, issued: true };
}
