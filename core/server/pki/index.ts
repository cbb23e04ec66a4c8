/** @module The cluster PKI: CA, serving/admin/node certificates, TLS client helpers. */
export { ADMIN_USER, ClusterPki, type ClusterPkiOptions, DAY_MS, KUBERNETES_NAMES, MASTERS_GROUP, type PkiValidity } from "./cluster-pki.ts";
export { type ClientTls, fetchCaUnverified, tlsFetch } from "./tls-client.ts";
export { type CertKeyPem, certSha256, createCa, createCsr, issue, loadSigner, parseCert, pemBody, readCsr, subjectOf, verifyClientCert } from "./x509.ts";
