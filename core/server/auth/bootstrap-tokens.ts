/**
 * @module Bootstrap tokens, as kubeadm keeps them: Secrets
 * `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token`
 * with `token-id`, `token-secret`, optional `expiration` (RFC 3339),
 * `usage-bootstrap-authentication: "true"` and `auth-extra-groups`. A bearer
 * token `<id>.<secret>` authenticates as `system:bootstrap:<id>` in
 * `system:bootstrappers` (plus the extra groups). The Secret is read on every
 * request, so deleting it revokes the token at once.
 *
 * Join tokens wrap one for agents, k3s style: `K10<sha256 hex of the CA
 * certificate DER>::<id>.<secret>`; the agent checks the server's CA against
 * the hash before it sends the secret.
 */
import type { KubeObject } from "../../api/meta.ts";
import { type AuthenticationResult, type Authenticator, Groups } from "./types.ts";
import { bearerToken, constantTimeEqual } from "./tokens.ts";

export const BOOTSTRAP_SECRET_TYPE = "bootstrap.kubernetes.io/token";
export const BOOTSTRAPPERS_GROUP = "system:bootstrappers";
export const TOKEN_NAMESPACE = "kube-system";
const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Reads one object, undefined when it does not exist. */
export type SecretLookup = (namespace: string, name: string) => Promise<KubeObject | undefined>;

export class BootstrapTokenAuthenticator implements Authenticator {
  readonly name = "bootstrap-token";
  constructor(
    private readonly secret: SecretLookup,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async authenticate(req: Request): Promise<AuthenticationResult | null> {
    const token = bearerToken(req);
    const m = token ? TOKEN_RE.exec(token) : null;
    if (!m) return null;
    const [, id, secret] = m;
    const s = await this.secret(TOKEN_NAMESPACE, `bootstrap-token-${id}`);
    if (!s || (s as { type?: string }).type !== BOOTSTRAP_SECRET_TYPE) return null;
    const d = secretData(s);
    if (d["token-id"] !== id || !constantTimeEqual(d["token-secret"] ?? "", secret!)) return null;
    if (d["usage-bootstrap-authentication"] !== "true") return null;
    if (d.expiration && !(Date.parse(d.expiration) > this.now().getTime())) return null;
    if (s.metadata.deletionTimestamp) return null;
    const extra = (d["auth-extra-groups"] ?? "").split(",").map((g) => g.trim()).filter((g) => g.startsWith("system:bootstrappers:"));
    return {
      user: { name: `system:bootstrap:${id}`, groups: [...new Set([BOOTSTRAPPERS_GROUP, ...extra, Groups.authenticated])] },
      authenticator: this.name,
    };
  }
}

/** A Secret's `data` decoded from base64. */
export function secretData(s: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((s as { data?: Record<string, string> }).data ?? {})) out[k] = Buffer.from(v, "base64").toString("utf8");
  return out;
}

function randomString(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n * 2));
  let out = "";
  // 252 = 7 × 36: reject the top of the byte range so every character is equally likely.
  for (const b of bytes) if (b < 252 && out.length < n) out += ALPHABET[b % 36];
  return out.length === n ? out : out + randomString(n - out.length);
}

export function generateBootstrapToken(): { id: string; secret: string } {
  return { id: randomString(6), secret: randomString(16) };
}

/** The Secret that stores a bootstrap token. */
export function bootstrapTokenSecret(t: { id: string; secret: string; expiration?: Date; description?: string }): KubeObject {
  const data: Record<string, string> = {
    "token-id": t.id,
    "token-secret": t.secret,
    "usage-bootstrap-authentication": "true",
    "usage-bootstrap-signing": "true",
    "auth-extra-groups": "system:bootstrappers:skiff:default-node-token",
    ...(t.expiration ? { expiration: t.expiration.toISOString().replace(/\.\d{3}Z$/, "Z") } : {}),
    ...(t.description ? { description: t.description } : {}),
  };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `bootstrap-token-${t.id}`, namespace: TOKEN_NAMESPACE },
    type: BOOTSTRAP_SECRET_TYPE,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  } as KubeObject;
}

export function formatJoinToken(caHash: string, t: { id: string; secret: string }): string {
  return `K10${caHash}::${t.id}.${t.secret}`;
}

/** `K10<hash>::<id>.<secret>` → its parts; undefined for anything else. */
export function parseJoinToken(s: string): { caHash: string; id: string; secret: string } | undefined {
  const m = /^K10([0-9a-f]{64})::([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(s.trim());
  return m ? { caHash: m[1]!, id: m[2]!, secret: m[3]! } : undefined;
}
