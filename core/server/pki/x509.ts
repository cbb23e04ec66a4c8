/**
 * @module X.509 building blocks on WebCrypto (`@peculiar/x509`): ECDSA
 * P-256 key pairs, a self-signed CA, leaf certificates signed by it (serving
 * or client), PKCS#10 requests, PEM and fingerprints. Pure functions; the
 * files and the renewal policy are `cluster-pki.ts`'s.
 *
 * Why `@peculiar/x509` rather than `node-forge`: it runs on WebCrypto, which
 * Bun, Node and Deno all ship (key generation and signing are native, not
 * JavaScript bignums), it does ECDSA (forge's X.509 code is RSA only, and
 * RSA-2048 key generation in forge takes seconds), it parses and verifies
 * PKCS#10 requests, and it is typed and maintained (PeculiarVentures, who
 * also keep the webcrypto polyfills).
 *
 * It is loaded on first use, not at start-up: with its ASN.1 schemas it costs
 * 100–200 ms to load, and a server restarting with its certificates in place
 * needs it only to sign (a node's CSR, a renewal) or to verify a client
 * certificate. Reading a certificate's dates, names and fingerprint
 * (`inspectCert`) uses `node:crypto`'s X509Certificate, which Bun, Node and
 * Deno ship natively.
 */
import "reflect-metadata"; // @peculiar/x509 uses tsyringe, which needs the polyfill before it loads (small; the DI container loads it anyway).
import { X509Certificate as NativeCertificate } from "node:crypto";
import { createRequire } from "node:module";
import type * as X509 from "@peculiar/x509";

const require = createRequire(import.meta.url);
let lib: typeof X509 | undefined;

/**
 * Loads `@peculiar/x509`. A dynamic import, so the start-up bundle carries it
 * precompiled but evaluates it only here. Every async function below awaits
 * it first.
 */
export async function loadX509(): Promise<typeof X509> {
  lib ??= (await import("@peculiar/x509")) as typeof X509;
  return lib;
}

/**
 * The loaded module, for synchronous callers (`parseCert`). Before any
 * `loadX509()` it falls back to a synchronous require from `node_modules`;
 * either way one copy is kept, so certificates never mix two copies' classes.
 */
export function x509lib(): typeof X509 {
  lib ??= require("@peculiar/x509") as typeof X509;
  return lib;
}

export const EC_ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A certificate and its private key, both PEM (key: PKCS#8 `PRIVATE KEY`). */
export interface CertKeyPem {
  cert: string;
  key: string;
}

/** A parsed certificate with its key, ready to sign with (a CA). */
export interface Signer {
  cert: X509.X509Certificate;
  key: CryptoKey;
}

const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

export function generateKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(EC_ALG, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return pem("PRIVATE KEY", new Uint8Array(await crypto.subtle.exportKey("pkcs8", key)));
}

export async function importPrivateKey(keyPem: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("pkcs8", pemBody(keyPem), EC_ALG, true, ["sign"]);
}

export function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

/** The DER bytes of the first PEM block. */
export function pemBody(text: string): Uint8Array<ArrayBuffer> {
  const m = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END [A-Z0-9 ]+-----/.exec(text);
  if (!m) throw new Error("no PEM block found");
  return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64"));
}

export function parseCert(certPem: string | Uint8Array): X509.X509Certificate {
  return new (x509lib().X509Certificate)(typeof certPem === "string" ? certPem : new Uint8Array(certPem));
}

/** What start-up and renewal need to know of a certificate, read without loading `@peculiar/x509`. */
export interface CertSummary {
  notAfter: Date;
  /** SANs as `dns:<name>` and `ip:<address>`. */
  sans: string[];
  /** RFC 4514 subject as `distinguishedName` writes it (`CN=…, O=…`). */
  subject: string;
  /** Whether `caPem` issued it (its signature checks against the CA's key). */
  issuerIs(caPem: string): boolean;
}

export function inspectCert(certPem: string): CertSummary {
  const c = new NativeCertificate(certPem);
  const sans = (c.subjectAltName ?? "")
    .split(", ")
    .filter(Boolean)
    .map((n) => (n.startsWith("DNS:") ? `dns:${n.slice(4)}` : n.startsWith("IP Address:") ? `ip:${canonicalIp(n.slice(11))}` : n));
  return {
    notAfter: new Date(c.validTo),
    sans,
    subject: c.subject.split("\n").join(", "),
    issuerIs: (caPem) => {
      const ca = new NativeCertificate(caPem);
      return c.checkIssued(ca) && c.verify(ca.publicKey);
    },
  };
}

/** An IP address as RFC 5952 text (node:crypto prints IPv6 SANs in full, upper case). */
export function canonicalIp(ip: string): string {
  return ip.includes(":") ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** Hex SHA-256 of a certificate's DER encoding (what a `K10…` join token pins). */
export async function certSha256(certPem: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", pemBody(certPem));
  return Buffer.from(digest).toString("hex");
}

function serial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = b[0]! & 0x7f; // positive
  return Buffer.from(b).toString("hex");
}

/** RFC 4514 distinguished name with escaping for the few characters that need it. */
export function distinguishedName(cn: string, orgs: string[] = []): string {
  const esc = (v: string) => v.replace(/([,+"\\<>;=])/g, "\\$1");
  return [`CN=${esc(cn)}`, ...orgs.map((o) => `O=${esc(o)}`)].join(", ");
}

export async function createCa(opts: { commonName: string; validityMs: number; now?: Date }): Promise<CertKeyPem> {
  const X = await loadX509();
  const keys = await generateKeys();
  const notBefore = new Date((opts.now ?? new Date()).getTime() - 60_000);
  const cert = await X.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: distinguishedName(opts.commonName),
    notBefore,
    notAfter: new Date(notBefore.getTime() + opts.validityMs),
    signingAlgorithm: EC_ALG,
    keys,
    extensions: [
      new X.BasicConstraintsExtension(true, undefined, true),
      new X.KeyUsagesExtension(X.KeyUsageFlags.keyCertSign | X.KeyUsageFlags.cRLSign | X.KeyUsageFlags.digitalSignature, true),
      await X.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString("pem") + "\n", key: await privateKeyPem(keys.privateKey) };
}

/** The CA as a signer: its key imported now, its certificate parsed on first use (which loads `@peculiar/x509`). */
export async function loadSigner(ca: CertKeyPem): Promise<Signer> {
  const key = await importPrivateKey(ca.key);
  let cert: X509.X509Certificate | undefined;
  return {
    key,
    get cert() {
      cert ??= parseCert(ca.cert);
      return cert;
    },
  };
}

export interface LeafOptions {
  commonName: string;
  organizations?: string[];
  /** DNS names and IP addresses: makes it a serving certificate. */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** serverAuth, clientAuth, or both. */
  usages: ("server" | "client")[];
  validityMs: number;
  now?: Date;
}

/** Signs a certificate for `publicKey` (a fresh key pair when omitted; its key is returned then). */
export async function issue(ca: Signer, o: LeafOptions, publicKey?: CryptoKey): Promise<{ cert: string; key?: string }> {
  const X = await loadX509();
  const keys = publicKey ? undefined : await generateKeys();
  const pub = publicKey ?? keys!.publicKey;
  const notBefore = new Date((o.now ?? new Date()).getTime() - 60_000);
  const sans: X509.JsonGeneralName[] = [
    ...(o.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(o.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const caNotAfter = ca.cert.notAfter.getTime();
  const cert = await X.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: distinguishedName(o.commonName, o.organizations),
    issuer: ca.cert.subject,
    notBefore,
    // Never outlive the CA.
    notAfter: new Date(Math.min(notBefore.getTime() + o.validityMs, caNotAfter)),
    signingAlgorithm: EC_ALG,
    publicKey: pub,
    signingKey: ca.key,
    extensions: [
      new X.BasicConstraintsExtension(false, undefined, true),
      new X.KeyUsagesExtension(X.KeyUsageFlags.digitalSignature | X.KeyUsageFlags.keyEncipherment, true),
      new X.ExtendedKeyUsageExtension(o.usages.map((u) => (u === "server" ? OID_SERVER_AUTH : OID_CLIENT_AUTH))),
      await X.AuthorityKeyIdentifierExtension.create(ca.cert),
      ...(sans.length > 0 ? [new X.SubjectAlternativeNameExtension(sans)] : []),
    ],
  });
  return { cert: cert.toString("pem") + "\n", ...(keys ? { key: await privateKeyPem(keys.privateKey) } : {}) };
}

/** A PKCS#10 request (PEM) for `commonName`/`organizations`, with its fresh key (PEM). */
export async function createCsr(commonName: string, organizations: string[] = []): Promise<{ csr: string; key: string }> {
  const X = await loadX509();
  const keys = await generateKeys();
  const csr = await X.Pkcs10CertificateRequestGenerator.create({ name: distinguishedName(commonName, organizations), keys, signingAlgorithm: EC_ALG });
  return { csr: csr.toString("pem") + "\n", key: await privateKeyPem(keys.privateKey) };
}

/** A request's subject and public key, after checking its self-signature. Throws when it is malformed or forged. */
export async function readCsr(csrPem: string): Promise<{ commonName: string; organizations: string[]; publicKey: CryptoKey }> {
  const X = await loadX509();
  const req = new X.Pkcs10CertificateRequest(csrPem);
  if (!(await req.verify())) throw new Error("the certificate request's signature does not verify");
  const { commonName, organizations } = subjectOf(req.subjectName);
  if (!commonName) throw new Error("the certificate request has no common name");
  return { commonName, organizations, publicKey: await req.publicKey.export(EC_ALG, ["verify"]) };
}

/** CN and O values of a name (the user and groups of a client certificate). */
export function subjectOf(name: X509.Name): { commonName: string; organizations: string[] } {
  return { commonName: name.getField("CN")[0] ?? "", organizations: name.getField("O") };
}

/**
 * Whether `leaf` (DER) was signed by `ca` and is valid at `now` and meant for
 * client authentication. Returns the parsed certificate, or why not.
 */
export async function verifyClientCert(
  leafDer: Uint8Array,
  ca: X509.X509Certificate,
  now: Date = new Date(),
): Promise<{ ok: true; cert: X509.X509Certificate } | { ok: false; reason: string }> {
  await loadX509();
  let cert: X509.X509Certificate;
  try {
    cert = parseCert(leafDer);
  } catch {
    return { ok: false, reason: "malformed certificate" };
  }
  if (cert.issuer !== ca.subject) return { ok: false, reason: "certificate signed by unknown authority" };
  let signed = false;
  try {
    signed = await cert.verify({ publicKey: ca.publicKey, signatureOnly: true });
  } catch {
    signed = false;
  }
  if (!signed) return { ok: false, reason: "certificate signed by unknown authority" };
  if (now < cert.notBefore) return { ok: false, reason: "certificate is not yet valid" };
  if (now > cert.notAfter) return { ok: false, reason: "certificate has expired" };
  const eku = cert.getExtension(x509lib().ExtendedKeyUsageExtension);
  if (eku && !eku.usages.map(String).includes(OID_CLIENT_AUTH)) return { ok: false, reason: "certificate specifies an incompatible key usage" };
  return { ok: true, cert };
}

export type { X509 as x509 };
