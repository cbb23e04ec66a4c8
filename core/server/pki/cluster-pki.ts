/**
 * @module The cluster's PKI under `<dataDir>/tls/` (every file 0600, the
 * directory 0700):
 *
 * | file | what |
 * |---|---|
 * | `ca.crt`, `ca.key` | the cluster CA (ECDSA P-256, 10 years) |
 * | `serving.crt`, `serving.key` | the API server's certificate: SANs for the listen address(es), localhost, 127.0.0.1, the host name, `kubernetes[.default[.svc[.cluster.local]]]` and the `kubernetes` Service ClusterIP |
 * | `admin.crt`, `admin.key` | the admin client certificate (CN=skiff-admin, O=system:masters) the kubeconfig carries |
 * | `sa.key`, `sa.pub` | the ServiceAccount token signing key pair (ES256) |
 *
 * Created at first start, kept after. `renew()` (called at start and daily)
 * reissues a serving or admin certificate within `renewBeforeMs` of its
 * expiry — or whose SANs no longer match what is wanted — with a fresh key;
 * the server then swaps its TLS context without restarting. The CA itself is
 * not rotated (a new CA would invalidate every issued certificate and join
 * token; that is an explicit operation left for later).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalIp, type CertKeyPem, certSha256, createCa, distinguishedName, EC_ALG, inspectCert, issue, type LeafOptions, loadSigner, pem, type Signer, type x509 } from "./x509.ts";

export const DAY_MS = 86_400_000;
const DEFAULT_LEAF_MS = 365 * DAY_MS;

export interface PkiValidity {
  /** CA lifetime. Default 10 years. */
  caMs?: number;
  /** Serving and client certificates. Default 1 year. */
  leafMs?: number;
  /** Renew a leaf this long before it expires. Default 90 days. */
  renewBeforeMs?: number;
}

export interface ClusterPkiOptions {
  /** `<dataDir>/tls`; omit to keep everything in memory (embedding, tests). */
  dir?: string;
  /** Serving-certificate DNS names and IPs beyond the fixed ones. */
  dnsNames: string[];
  ipAddresses: string[];
  validity?: PkiValidity;
  now?: () => Date;
}

export const ADMIN_USER = "skiff-admin";
export const MASTERS_GROUP = "system:masters";

/** The fixed names every serving certificate carries (kube-apiserver's defaults). */
export const KUBERNETES_NAMES = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"];

export class ClusterPki {
  #ca!: CertKeyPem;
  #signer!: Signer;
  #serving!: CertKeyPem;
  #admin!: CertKeyPem;
  #sa!: { key: string; pub: string };
  #caHash = "";
  readonly #o: ClusterPkiOptions;
  readonly #leafMs: number;
  readonly #renewBeforeMs: number;

  private constructor(o: ClusterPkiOptions) {
    this.#o = o;
    this.#leafMs = o.validity?.leafMs ?? DEFAULT_LEAF_MS;
    this.#renewBeforeMs = o.validity?.renewBeforeMs ?? 90 * DAY_MS;
  }

  /** Loads the PKI from `dir`, creating what is missing, then renews what is due. */
  static async open(o: ClusterPkiOptions): Promise<ClusterPki> {
    const p = new ClusterPki(o);
    if (o.dir) mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    const caPair = p.#readPair("ca");
    const saFiles = p.#readFile("sa.key") !== undefined && p.#readFile("sa.pub") !== undefined ? { key: p.#readFile("sa.key")!, pub: p.#readFile("sa.pub")! } : undefined;
    const serving = p.#readPair("serving");
    const admin = p.#readPair("admin");
    p.#ca = caPair ?? (await createClusterCa(o.validity, p.#now()));
    if (!caPair) p.#writePair("ca", p.#ca);
    p.#signer = await loadSigner(p.#ca);
    p.#caHash = await certSha256(p.#ca.cert);
    p.#sa = saFiles ?? (await createServiceAccountKeys());
    if (!saFiles) {
      p.#writeFile("sa.key", p.#sa.key);
      p.#writeFile("sa.pub", p.#sa.pub);
    }
    if (serving) p.#serving = serving;
    if (admin) p.#admin = admin;
    await p.renew({ force: { serving: !serving, admin: !admin } });
    return p;
  }

  get ca(): string {
    return this.#ca.cert;
  }
  get caCert(): x509.X509Certificate {
    return this.#signer.cert;
  }
  /** Hex SHA-256 of the CA certificate's DER (the `K10<hash>` of join tokens). */
  get caHash(): string {
    return this.#caHash;
  }
  get signer(): Signer {
    return this.#signer;
  }
  get serving(): CertKeyPem {
    return this.#serving;
  }
  get admin(): CertKeyPem {
    return this.#admin;
  }
  get serviceAccountKey(): { key: string; pub: string } {
    return this.#sa;
  }
  get leafValidityMs(): number {
    return this.#leafMs;
  }

  /**
   * Reissues the serving and admin certificates that are within the renewal
   * window of expiry (or whose SANs changed, or `force`d). Returns which
   * changed. Idempotent: calling it again right after changes nothing.
   */
  async renew(opts: { force?: { serving?: boolean; admin?: boolean } } = {}): Promise<{ serving: boolean; admin: boolean }> {
    const now = this.#now();
    const due = (c: CertKeyPem | undefined) => !c || inspectCert(c.cert).notAfter.getTime() - now.getTime() < this.#renewBeforeMs;
    const sans = servingSans(this.#o);
    const serving = opts.force?.serving || due(this.#serving) || !sameSans(this.#serving, sans.dnsNames, sans.ipAddresses);
    const admin = opts.force?.admin || due(this.#admin);
    if (serving) {
      this.#serving = await issueServing(this.#signer, sans, this.#leafMs, now);
      this.#writePair("serving", this.#serving);
    }
    if (admin) {
      this.#admin = await issueAdmin(this.#signer, this.#leafMs, now);
      this.#writePair("admin", this.#admin);
    }
    return { serving, admin };
  }

  /**
   * A certificate this server issues to itself and keeps as `<name>.crt`/`.key`
   * (the in-process agent's serving certificate): reused across restarts while
   * it names the same subject and SANs and is outside the renewal window,
   * otherwise issued anew. Without a directory it is issued every time.
   */
  async keptLeaf(name: string, o: Omit<LeafOptions, "validityMs" | "now">): Promise<CertKeyPem> {
    const have = this.#readPair(name);
    if (have) {
      const c = inspectCert(have.cert);
      const sameNames = c.subject === distinguishedName(o.commonName, o.organizations) && sameSans(have, o.dnsNames ?? [], o.ipAddresses ?? []);
      const fresh = c.notAfter.getTime() - this.#now().getTime() >= this.#renewBeforeMs;
      if (sameNames && fresh && c.issuerIs(this.#ca.cert)) return have;
    }
    const r = await issue(this.#signer, { ...o, validityMs: this.#leafMs, now: this.#now() });
    const pair = { cert: r.cert, key: r.key! };
    this.#writePair(name, pair);
    return pair;
  }

  /** Signs a client certificate for `publicKey` (a node's CSR). */
  async issueClient(publicKey: CryptoKey, commonName: string, organizations: string[]): Promise<string> {
    return (await issue(this.#signer, { commonName, organizations, usages: ["client"], validityMs: this.#leafMs, now: this.#now() }, publicKey)).cert;
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }

  #readFile(name: string): string | undefined {
    if (!this.#o.dir) return undefined;
    const f = join(this.#o.dir, name);
    return existsSync(f) ? readFileSync(f, "utf8") : undefined;
  }

  #writeFile(name: string, text: string): void {
    if (!this.#o.dir) return;
    const f = join(this.#o.dir, name);
    writeFileSync(`${f}.tmp`, text, { mode: 0o600 });
    renameSync(`${f}.tmp`, f);
  }

  #readPair(base: string): CertKeyPem | undefined {
    const cert = this.#readFile(`${base}.crt`);
    const key = this.#readFile(`${base}.key`);
    return cert && key ? { cert, key } : undefined;
  }

  #writePair(base: string, p: CertKeyPem): void {
    this.#writeFile(`${base}.key`, p.key);
    this.#writeFile(`${base}.crt`, p.cert);
  }
}

/** The serving certificate's SANs: the fixed names plus the configured ones. */
export function servingSans(o: { dnsNames: string[]; ipAddresses: string[] }): { dnsNames: string[]; ipAddresses: string[] } {
  return { dnsNames: unique(["localhost", ...KUBERNETES_NAMES, ...o.dnsNames]), ipAddresses: unique(["127.0.0.1", ...o.ipAddresses]) };
}

export function createClusterCa(validity: PkiValidity | undefined, now: Date): Promise<CertKeyPem> {
  return createCa({ commonName: "skiff-ca", validityMs: validity?.caMs ?? 3650 * DAY_MS, now });
}

export async function createServiceAccountKeys(): Promise<{ key: string; pub: string }> {
  const keys = (await crypto.subtle.generateKey(EC_ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  return {
    key: pem("PRIVATE KEY", new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey))),
    pub: pem("PUBLIC KEY", new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey))),
  };
}

export async function issueServing(signer: Signer, sans: { dnsNames: string[]; ipAddresses: string[] }, leafMs: number, now: Date): Promise<CertKeyPem> {
  const s = await issue(signer, { commonName: "kube-apiserver", ...sans, usages: ["server"], validityMs: leafMs, now });
  return { cert: s.cert, key: s.key! };
}

export async function issueAdmin(signer: Signer, leafMs: number, now: Date): Promise<CertKeyPem> {
  const a = await issue(signer, { commonName: ADMIN_USER, organizations: [MASTERS_GROUP], usages: ["client"], validityMs: leafMs, now });
  return { cert: a.cert, key: a.key! };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs.filter(Boolean))];
}

function sameSans(c: CertKeyPem | undefined, dns: string[], ips: string[]): boolean {
  if (!c) return false;
  const have = new Set(inspectCert(c.cert).sans);
  const want = [...dns.map((d) => `dns:${d}`), ...ips.map((i) => `ip:${canonicalIp(i)}`)];
  return want.length === have.size && want.every((w) => have.has(w));
}
