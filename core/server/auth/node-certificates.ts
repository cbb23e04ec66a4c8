/**
 * @module How a node gets its client certificate. A dedicated endpoint
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
 */
import { ApiError, errors } from "../../api/errors.ts";
import type { ClusterPki } from "../pki/cluster-pki.ts";
import { readCsr } from "../pki/x509.ts";
import { json } from "../respond.ts";
import type { GateEndpoint } from "./authentication.ts";
import { BOOTSTRAPPERS_GROUP } from "./bootstrap-tokens.ts";
import { Groups } from "./types.ts";

export const NODE_CERTIFICATE_PATH = "/skiff/v1/node-certificate";
const NODE_PREFIX = "system:node:";

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
        let body: { csr?: unknown };
        try {
          body = (await req.json()) as { csr?: unknown };
        } catch {
          throw errors.badRequest("the body must be JSON: {\"csr\": \"<PEM certificate request>\"}");
        }
        if (typeof body.csr !== "string") throw errors.badRequest("csr: a PEM certificate request is required");
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
        const certificate = await pki.issueClient(csr.publicKey, csr.commonName, [Groups.nodes]);
        return json({ certificate, ca: pki.ca }, 201);
      },
    },
  ];
}
