/**
 * @module The secure server's parts, assembled for the kernel (issue 10; on
 * by default for a listening kernel, `skiff server --insecure` turns it off): the PKI,
 * the request gate with its authenticators (client certificates, static
 * tokens, bootstrap tokens, ServiceAccount JWTs), the TokenRequest
 * subresource, the node-join endpoints, the server's join token, and the
 * certificate renewal loop.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import { isApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { TypeRegistry } from "../../api/registry.ts";
import type { Logger } from "../../log.ts";
import type { Store } from "../../store/types.ts";
import type { SubresourceHandler } from "../app.ts";
import { ClusterPki, DAY_MS, type PkiValidity } from "../pki/cluster-pki.ts";
import { inspectCert } from "../pki/x509.ts";
import type { RestStorage } from "../rest-storage.ts";
import type { ServeTls } from "../serve.ts";
import { RequestGate } from "./authentication.ts";
import { BootstrapTokenAuthenticator, bootstrapTokenSecret, formatJoinToken, generateBootstrapToken, parseJoinToken, TOKEN_NAMESPACE } from "./bootstrap-tokens.ts";
import { nodeJoinEndpoints } from "./node-certificates.ts";
import { ServiceAccountTokens } from "./service-accounts.ts";
import { TokenFileAuthenticator } from "./token-file.ts";
import { type AuthenticationResult, type Authenticator, type Authorizer, Groups } from "./types.ts";
import { X509Authenticator } from "./x509-authenticator.ts";

export interface SecurityOptions {
  /**
   * TLS, authentication, authorization and join tokens. Default: on when the
   * kernel listens, off when it does not (no network surface); `false` is
   * `skiff server --insecure` (tests and benchmarks only).
   */
  enabled?: boolean;
  /** kube-apiserver's `--token-auth-file`. Default `<dataDir>/tokens.csv` when it exists. */
  tokenAuthFile?: string;
  /** Certificate lifetimes and the renewal window (tests shorten them). */
  validity?: PkiValidity;
  /** How often certificates are checked for renewal. Default daily. */
  renewCheckMs?: number;
  /** More names and addresses for the serving certificate. */
  sans?: string[];
  /** Authorizer run after authentication; none means authenticated = allowed. */
  authorizer?: Authorizer;
}

/**
 * Who the kernel's own in-process client is: trusted, in system:masters (as
 * kube-apiserver's loopback client). It does the kernel's internal work
 * (bootstrap writes, the kubernetes Service/Endpoints, RBAC aggregation,
 * shared informers' lists and watches) and admission steps' reads; plugins
 * act as their own least-privileged identities (`manifest.identity`,
 * core/plugin/identity.ts).
 */
export const KERNEL_IDENTITY: AuthenticationResult = {
  user: { name: "system:skiff-kernel", groups: [Groups.masters, Groups.authenticated] },
  authenticator: "in-process",
};

export interface ClusterSecurity {
  pki: ClusterPki;
  gate: RequestGate;
  serviceAccounts: ServiceAccountTokens;
  /** `serviceaccounts/token` for `createApiServer`'s subresources. */
  subresources: SubresourceHandler[];
  tls(): ServeTls;
  /** The server's join token (`<dataDir>/token`), created with its bootstrap-token Secret on first start. */
  ensureJoinToken(storage: RestStorage): Promise<{ token: string; file?: string }>;
  /** Renews due certificates now and every `renewCheckMs`; `onServing` gets the new TLS material, `onAdmin` the new admin pair. */
  startRenewal(h: { onServing(tls: ServeTls): void; onAdmin(): void }): Promise<void>;
  stop(): void;
}

export async function createClusterSecurity(o: {
  options: SecurityOptions;
  dataDir?: string;
  listenHost?: string;
  kubernetesServiceIP: string;
  store: Store;
  registry: TypeRegistry;
  log: Logger;
}): Promise<ClusterSecurity> {
  const { dnsNames, ipAddresses } = servingNames(o.listenHost, o.kubernetesServiceIP, o.options.sans ?? []);
  const pki = await ClusterPki.open({
    ...(o.dataDir ? { dir: join(o.dataDir, "tls") } : {}),
    dnsNames,
    ipAddresses,
    ...(o.options.validity ? { validity: o.options.validity } : {}),
  });
  const lookup = async (resource: string, namespace: string, name: string): Promise<KubeObject | undefined> => {
    try {
      return (await o.store.get(o.registry.get("", "v1", resource)!, namespace, name)).object;
    } catch (e) {
      if (isApiError(e, "NotFound")) return undefined;
      throw e;
    }
  };
  const serviceAccounts = new ServiceAccountTokens({ key: pki.serviceAccountKey, lookup });
  const tokenFile = o.options.tokenAuthFile ?? (o.dataDir && existsSync(join(o.dataDir, "tokens.csv")) ? join(o.dataDir, "tokens.csv") : undefined);
  const authenticators: Authenticator[] = [
    new X509Authenticator(() => pki.caCert),
    ...(tokenFile ? [TokenFileAuthenticator.fromFile(tokenFile)] : []),
    new BootstrapTokenAuthenticator((ns, name) => lookup("secrets", ns, name)),
    serviceAccounts,
  ];
  const gate = new RequestGate({ authenticators, endpoints: nodeJoinEndpoints(pki), ...(o.options.authorizer ? { authorizer: o.options.authorizer } : {}) });
  let timer: ReturnType<typeof setInterval> | undefined;
  const tls = (): ServeTls => ({ cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca });
  o.log.info({ tokenAuthFile: tokenFile, caHash: pki.caHash, sans: [...dnsNames, ...ipAddresses] }, "security on");
  return {
    pki,
    gate,
    serviceAccounts,
    subresources: [
      {
        name: "token",
        kind: { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" },
        verbs: ["create"],
        appliesTo: (t) => t.group === "" && t.plural === "serviceaccounts",
        handle: (ctx) => serviceAccounts.tokenRequest(ctx),
      },
    ],
    tls,
    async ensureJoinToken(storage) {
      const file = o.dataDir ? join(o.dataDir, "token") : undefined;
      if (file && existsSync(file)) {
        const existing = parseJoinToken(readFileSync(file, "utf8"));
        // Kept while its Secret is: a deleted Secret (revoked, or a --memory store) means a new token, never the old one back.
        if (existing && existing.caHash === pki.caHash && (await lookup("secrets", TOKEN_NAMESPACE, `bootstrap-token-${existing.id}`))) {
          return { token: formatJoinToken(pki.caHash, existing), file };
        }
        if (existing) o.log.warn({ file, id: existing.id }, "the join token in the file is no longer valid; writing a new one");
      }
      const t = generateBootstrapToken();
      const secretType = o.registry.get("", "v1", "secrets")!;
      await storage.create(
        secretType,
        bootstrapTokenSecret({ ...t, description: "the server's join token (skiff server)" }),
        { fieldManager: "skiff", fieldValidation: "Ignore" as const, dryRun: false, warnings: [] },
        { skipAdmission: true },
      );
      const token = formatJoinToken(pki.caHash, t);
      if (file) writeFileSync(file, token + "\n", { mode: 0o600 });
      return { token, ...(file ? { file } : {}) };
    },
    async startRenewal(h) {
      const check = async () => {
        try {
          const r = await pki.renew();
          if (r.serving) {
            o.log.info({ notAfter: notAfterOf(pki.serving.cert) }, "renewed the serving certificate");
            h.onServing(tls());
          }
          if (r.admin) {
            o.log.info({ notAfter: notAfterOf(pki.admin.cert) }, "renewed the admin client certificate");
            h.onAdmin();
          }
        } catch (e) {
          o.log.error({ err: (e as Error).message }, "certificate renewal failed");
        }
      };
      await check();
      timer = setInterval(() => void check(), o.options.renewCheckMs ?? DAY_MS);
      (timer as { unref?: () => void }).unref?.();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}

function notAfterOf(certPem: string): string {
  return inspectCert(certPem).notAfter.toISOString();
}

/** The serving certificate's names: the listen address (every interface's for a wildcard), the host name, and the `kubernetes` Service ClusterIP. */
export function servingNames(listenHost: string | undefined, serviceIP: string, extra: string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const ips = new Set<string>([serviceIP]);
  const dns = new Set<string>([hostname()]);
  const isIp = (s: string) => /^[\d.]+$/.test(s) || s.includes(":");
  const hosts = [...extra];
  if (listenHost === "0.0.0.0" || listenHost === "::" || listenHost === "") {
    for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (!a.address.startsWith("fe80")) hosts.push(a.address);
  } else if (listenHost) hosts.push(listenHost);
  for (const h of hosts) (isIp(h) ? ips : dns).add(h.replace(/^\[|\]$/g, ""));
  return { dnsNames: [...dns], ipAddresses: [...ips] };
}

export { TOKEN_NAMESPACE };
