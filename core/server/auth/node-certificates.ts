/**
 * @module How a node gets its certificates, and the API server its
 * credential for node agents. A dedicated endpoint
 * rather than certificates.k8s.io CertificateSigningRequests: the agent needs
 * one synchronous answer during `skiff agent`'s start, and an auto-approved
 * CSR object would need a kind, an approver and a signer loop to produce the
 * same result (kubeadm's csrapproving + csrsigning controllers). CSR objects
 * (and `kubectl certificate approve`) are the follow-up for anything beyond
 * the automatic node flow.
 *
 * `POST /skiff/v1/node-certificate` with `{"csr": "<PKCS#10 PEM>"}`:
 * - a bootstrap token (`system:bootstrappers`) may get `CN=system:node:<name>, O=system:nodes`;
 * - a node (`system:node:<name>` in `system:nodes`) may renew its own;
 * answers `{"certificate": PEM, "ca": PEM}`. `GET /cacerts` serves the CA
 * (anonymously: joining agents pin it by hash before they send anything).
 *
 * With `"usage": "serving"` (and `dnsNames`, `ipAddresses`) the same request
 * gets the agent endpoint's serving certificate (upstream's
 * `kubernetes.io/kubelet-serving` signer: `CN=system:node:<name>,
 * O=system:nodes`, serverAuth, SANs for the node's addresses). Only the node
 * itself asks (its client certificate; a bootstrap token may not). Names the
 * API server's own certificate carries (`kubernetes.default.svc` …, its
 * listen addresses, `localhost`) are left out, so no node can pose as the
 * API server to clients that check names; the API server itself checks an
 * agent by the certificate's node name (`agentServerIdentity`), not its SANs.
 *
 * The API server connects to agents as `kube-apiserver-kubelet-client`
 * (kubeadm's name for kube-apiserver's `--kubelet-client-certificate`), a
 * client certificate the kernel issues itself (`AgentClientCredentials`);
 * no CSR can get that name.
 */
import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { ApiError, errors } from "../../api/errors.ts";
import type { ClusterPki } from "../pki/cluster-pki.ts";
import { DAY_MS } from "../pki/cluster-pki.ts";
import { canonicalIp, type CertKeyPem, inspectCert, issue, readCsr } from "../pki/x509.ts";
import { json } from "../respond.ts";
import type { GateEndpoint } from "./authentication.ts";
import { BOOTSTRAPPERS_GROUP } from "./bootstrap-tokens.ts";
import { Groups } from "./types.ts";

export const NODE_CERTIFICATE_PATH = "/skiff/v1/node-certificate";
const NODE_PREFIX = "system:node:";
/** Who the API server is to node agents (its client certificate's CN). */
export const AGENT_CLIENT_USER = "kube-apiserver-kubelet-client";

export function nodeJoinEndpoints(pki: ClusterPki): GateEndpoint[] {
  return [
    {
      method: "GET",
      path: "/cacerts",
      public: true,
      handle: () => new Response(pki.ca, { headers: { "content-type": "application/x-pem-file" } }),
    },
    {
      method: "POST",
      path: NODE_CERTIFICATE_PATH,
      async handle(req, who) {
        const u = who.user;
        const bootstrapper = u.groups.includes(BOOTSTRAPPERS_GROUP);
        const node = u.name.startsWith(NODE_PREFIX) && u.groups.includes(Groups.nodes);
        if (!bootstrapper && !node) {
          throw new ApiError({ reason: "Forbidden", message: `forbidden: User "${u.name}" cannot post path "${NODE_CERTIFICATE_PATH}": only bootstrap tokens and nodes get node certificates` });
        }
        let body: { csr?: unknown; usage?: unknown; dnsNames?: unknown; ipAddresses?: unknown };
        try {
          body = (await req.json()) as typeof body;
        } catch {
          throw errors.badRequest("the body must be JSON: {\"csr\": \"<PEM certificate request>\"}");
        }
        if (typeof body.csr !== "string") throw errors.badRequest("csr: a PEM certificate request is required");
        const serving = body.usage === "serving";
        if (body.usage !== undefined && body.usage !== "client" && !serving) throw errors.badRequest('usage: "client" (the default) or "serving"');
        if (serving && !node) {
          throw new ApiError({ reason: "Forbidden", message: `forbidden: User "${u.name}" cannot get a serving certificate: only a node asks for its own` });
        }
        let csr: Awaited<ReturnType<typeof readCsr>>;
        try {
          csr = await readCsr(body.csr);
        } catch (e) {
          throw errors.badRequest(`csr: ${(e as Error).message}`);
        }
        const nodeName = csr.commonName.startsWith(NODE_PREFIX) ? csr.commonName.slice(NODE_PREFIX.length) : "";
        if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName) || nodeName.length > 253) {
          throw errors.badRequest(`csr: the common name must be "system:node:<node name>", got "${csr.commonName}"`);
        }
        if (csr.organizations.length !== 1 || csr.organizations[0] !== Groups.nodes) {
          throw errors.badRequest(`csr: the organization must be exactly "${Groups.nodes}"`);
        }
        if (!bootstrapper && csr.commonName !== u.name) {
          throw new ApiError({ reason: "Forbidden", message: `forbidden: node "${u.name}" may only renew its own certificate, not "${csr.commonName}"` });
        }
        if (serving) {
          const names = (v: unknown, what: string): string[] => {
            if (v === undefined) return [];
            if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x === "" || x.length > 253)) throw errors.badRequest(`${what}: a list of names`);
            return v as string[];
          };
          const taken = new Set(inspectCert(pki.serving.cert).sans);
          const dnsNames = names(body.dnsNames, "dnsNames").filter((d) => !taken.has(`dns:${d}`));
          const ipAddresses = names(body.ipAddresses, "ipAddresses").filter((ip) => isIP(ip) !== 0 && !taken.has(`ip:${canonicalIp(ip)}`) && !isLoopback(ip));
          const { cert } = await issue(pki.signer, { commonName: csr.commonName, organizations: [Groups.nodes], dnsNames, ipAddresses, usages: ["server"], validityMs: pki.leafValidityMs }, csr.publicKey);
          return json({ certificate: cert, ca: pki.ca }, 201);
        }
        const certificate = await pki.issueClient(csr.publicKey, csr.commonName, [Groups.nodes]);
        return json({ certificate, ca: pki.ca }, 201);
      },
    },
  ];
}

function isLoopback(ip: string): boolean {
  return ip === "::1" || ip.startsWith("127.");
}

/**
 * The serving certificate of the in-process (all-in-one) agent, issued
 * directly: `CN=system:node:<node>`, for loopback (where the API server
 * reaches a node on its own machine) and the given names and addresses.
 */
export async function localAgentServing(pki: ClusterPki, nodeName: string, names: { dnsNames: string[]; ipAddresses: string[] }): Promise<CertKeyPem> {
  const unique = (xs: string[]) => [...new Set(xs.filter(Boolean))];
  // Kept in the data dir and reused while it still fits: issuing loads @peculiar/x509 (≈100 ms of start-up).
  return pki.keptLeaf("agent-serving", {
    commonName: `${NODE_PREFIX}${nodeName}`,
    organizations: [Groups.nodes],
    dnsNames: unique(["localhost", nodeName, ...names.dnsNames]),
    ipAddresses: unique(["127.0.0.1", ...names.ipAddresses]),
    usages: ["server"],
  });
}

/**
 * The in-process agent's `server.tls`: its serving certificate for this
 * machine's names and addresses, and the CA. Without a node name (a runtime
 * simulating nodes) it is issued for the host name: the endpoint is HTTPS
 * all the same, though the API server reaches no simulated node through it.
 */
export async function localAgentTls(pki: ClusterPki, nodeName = hostname()): Promise<{ cert: string; key: string; ca: string }> {
  const ipAddresses: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (!a.internal && !a.address.startsWith("fe80")) ipAddresses.push(a.address);
  const serving = await localAgentServing(pki, nodeName, { dnsNames: [hostname()], ipAddresses });
  return { ...serving, ca: pki.ca };
}

/**
 * The API server's client certificate for node agents
 * (`CN=kube-apiserver-kubelet-client`), issued on first use and again when a
 * tenth of its life is left; kept in memory only.
 */
export class AgentClientCredentials {
  #current?: Promise<CertKeyPem & { notAfter: number; life: number }>;

  constructor(private readonly pki: ClusterPki) {}

  /** The CA agents' serving certificates must chain to, and this client certificate. */
  async get(): Promise<{ ca: string; cert: string; key: string }> {
    const now = Date.now();
    const cur = this.#current ? await this.#current.catch(() => undefined) : undefined;
    if (!cur || cur.notAfter - now < cur.life / 10) this.#current = this.#issue();
    const c = await this.#current!;
    return { ca: this.pki.ca, cert: c.cert, key: c.key };
  }

  async #issue(): Promise<CertKeyPem & { notAfter: number; life: number }> {
    const validityMs = Math.min(this.pki.leafValidityMs, 365 * DAY_MS);
    const r = await issue(this.pki.signer, { commonName: AGENT_CLIENT_USER, usages: ["client"], validityMs });
    const notAfter = inspectCert(r.cert).notAfter.getTime();
    return { cert: r.cert, key: r.key!, notAfter, life: validityMs };
  }
}

/**
 * The API server's check of an agent's serving certificate, beyond its chain
 * to the cluster CA: it must name the node the pod runs on
 * (`CN=system:node:<node>`), so one node cannot answer for another. For the
 * `checkServerIdentity` TLS option (Bun's fetch and WebSocket, node:tls).
 */
export function agentServerIdentity(nodeName: string): (host: string, cert: { subject?: { CN?: string | string[] } }) => Error | undefined {
  return (_host, cert) => {
    const cn = cert.subject?.CN;
    if (cn === `${NODE_PREFIX}${nodeName}`) return undefined;
    return new Error(`the agent's certificate is for "${Array.isArray(cn) ? cn.join(",") : (cn ?? "")}", not "${NODE_PREFIX}${nodeName}"`);
  };
}
