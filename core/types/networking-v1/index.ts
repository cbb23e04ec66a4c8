/**
 * @module networking.k8s.io/v1 Ingress, IngressClass and NetworkPolicy:
 * upstream's defaults (policyTypes, port protocol, parameters scope), the
 * commonly hit validation with upstream messages, and the columns of
 * `kubectl get ingress|ingressclass|netpol`.
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { isDNS1123Subdomain, maxLenError, regexError, validateName } from "../../api/validation.ts";
import { child, fieldForbidden, fieldInvalid, fieldInvalidRendered, fieldNotSupported, fieldRequired, index } from "../field-errors.ts";
import { asArr, asNum, asObj, asStr, ensureObj, getPath, isNil, objsAt, strAt, type JsonObject } from "../object-access.ts";
import { ageColumn, column, formatLabelSelector, nameColumn } from "../table.ts";
import { isValidPortName, isValidPortNum, validateLabelSelector } from "../core-v1/common-validation.ts";
import { INGRESS_CLASS_SCHEMA, INGRESS_SCHEMA, NETWORK_POLICY_SCHEMA } from "./schemas.ts";

const SUBDOMAIN_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const WILDCARD_MSG =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";

function isWildcardSubdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLenError(253));
  if (!new RegExp(`^\\*\\.${SUBDOMAIN_FMT}$`).test(v)) errs.push(regexError(WILDCARD_MSG, `\\*\\.${SUBDOMAIN_FMT}`, "*.example.com"));
  return errs;
}

/** ValidateServiceName: a DNS-1035 label. */
function isDNS1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLenError(63));
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(v)) errs.push(regexError(DNS1035_MSG, "[a-z]([-a-z0-9]*[a-z0-9])?", "my-name", "abc-123"));
  return errs;
}

function looksLikeIP(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || (s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s));
}

function validateHost(host: string, path: string): StatusCause[] {
  const errs = host.includes("*") ? isWildcardSubdomain(host) : isDNS1123Subdomain(host);
  return errs.map((m) => fieldInvalid(path, host, m));
}

function validateBackend(b: JsonObject, path: string): StatusCause[] {
  const service = asObj(b.service);
  const resource = asObj(b.resource);
  if (service && resource) return [fieldInvalid(path, "", "cannot set both resource and service backends")];
  if (resource) {
    const causes: StatusCause[] = [];
    for (const f of ["kind", "name"]) {
      const v = asStr(resource[f]) ?? "";
      if (v === "") causes.push(fieldRequired(child(path, "resource", f)));
      else for (const m of validateName(v, "path", false)) causes.push(fieldInvalid(child(path, "resource", f), v, m));
    }
    return causes;
  }
  if (!service) return [fieldInvalid(path, "", "resource or service backend is required")];
  const causes: StatusCause[] = [];
  const name = asStr(service.name) ?? "";
  if (name === "") causes.push(fieldRequired(child(path, "service", "name")));
  else for (const m of isDNS1035Label(name)) causes.push(fieldInvalid(child(path, "service", "name"), name, m));
  const portName = strAt(service, "port", "name");
  const portNumber = asNum(getPath(service, "port", "number")) ?? 0;
  if (portName !== "" && portNumber !== 0) causes.push(fieldInvalid(path, "", "cannot set both port name & port number"));
  else if (portName !== "") for (const m of isValidPortName(portName)) causes.push(fieldInvalid(child(path, "service", "port", "name"), portName, m));
  else if (portNumber !== 0) for (const m of isValidPortNum(portNumber)) causes.push(fieldInvalid(child(path, "service", "port", "number"), portNumber, m));
  else causes.push(fieldRequired(path, "port name or number is required"));
  return causes;
}

const PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"];

function validatePath(p: JsonObject, path: string): StatusCause[] {
  const type = p.pathType;
  if (isNil(type)) return [fieldRequired(child(path, "pathType"), "pathType must be specified")];
  const causes: StatusCause[] = [];
  const value = asStr(p.path) ?? "";
  if (type === "Exact" || type === "Prefix") {
    if (!value.startsWith("/")) causes.push(fieldInvalid(child(path, "path"), value, "must be an absolute path"));
    for (const seq of ["//", "/./", "/../", "%2f", "%2F"]) if (value.includes(seq)) causes.push(fieldInvalid(child(path, "path"), value, `must not contain '${seq}'`));
    for (const suffix of ["/..", "/."]) if (value.endsWith(suffix)) causes.push(fieldInvalid(child(path, "path"), value, `cannot end with '${suffix}'`));
  } else if (type === "ImplementationSpecific") {
    if (value !== "" && !value.startsWith("/")) causes.push(fieldInvalid(child(path, "path"), value, "must be an absolute path"));
  } else causes.push(fieldNotSupported(child(path, "pathType"), type, PATH_TYPES));
  causes.push(...validateBackend(asObj(p.backend) ?? {}, child(path, "backend")));
  return causes;
}

/** ValidateIngressSpec (common rules). */
export function validateIngress(o: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes: StatusCause[] = [];
  const rules = asArr(spec.rules);
  if (rules.length === 0 && !asObj(spec.defaultBackend)) {
    causes.push(fieldInvalidRendered("spec", "[]networking.IngressRule(nil)", "either `defaultBackend` or `rules` must be specified"));
  }
  const defaultBackend = asObj(spec.defaultBackend);
  if (defaultBackend) causes.push(...validateBackend(defaultBackend, "spec.defaultBackend"));
  rules.forEach((raw, i) => {
    const r = asObj(raw) ?? {};
    const rp = index("spec.rules", i);
    const host = asStr(r.host) ?? "";
    if (host !== "") {
      if (looksLikeIP(host)) causes.push(fieldInvalid(child(rp, "host"), host, "must be a DNS name, not an IP address"));
      causes.push(...validateHost(host, child(rp, "host")));
    }
    const http = asObj(r.http);
    if (http) {
      const paths = asArr(http.paths);
      if (paths.length === 0) causes.push(fieldRequired(child(rp, "http", "paths")));
      paths.forEach((p, j) => causes.push(...validatePath(asObj(p) ?? {}, index(child(rp, "http", "paths"), j))));
    }
  });
  objsAt(spec, "tls").forEach((t, i) => {
    asArr(t.hosts).forEach((h, j) => causes.push(...validateHost(String(h), index(child(index("spec.tls", i), "hosts"), j))));
  });
  const className = asStr(spec.ingressClassName);
  if (className !== undefined) for (const m of isDNS1123Subdomain(className)) causes.push(fieldInvalid("spec.ingressClassName", className, m));
  return causes;
}

/** IsDomainPrefixedPath. */
function validateDomainPrefixedPath(v: string, path: string): StatusCause[] {
  if (v === "") return [fieldRequired(path)];
  const slash = v.indexOf("/");
  if (slash <= 0 || slash === v.length - 1) return [fieldInvalid(path, v, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const host = v.slice(0, slash);
  const rest = v.slice(slash + 1);
  const causes = isDNS1123Subdomain(host).map((m) => fieldInvalid(path, host, m));
  if (!/^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/.test(rest)) causes.push(fieldInvalid(path, rest, regexError("Invalid path", "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+")));
  return causes;
}

/** ValidateIngressClass / ValidateIngressClassUpdate. */
export function validateIngressClass(o: KubeObject, old?: KubeObject): StatusCause[] {
  const controller = strAt(o, "spec", "controller");
  const causes: StatusCause[] = [];
  if (controller.length > 250) causes.push({ reason: "FieldValueTooLong", field: "spec.controller", message: "Too long: may not be more than 250 bytes" });
  causes.push(...validateDomainPrefixedPath(controller, "spec.controller"));
  const params = asObj(getPath(o, "spec", "parameters"));
  if (params) {
    const pp = "spec.parameters";
    const apiGroup = asStr(params.apiGroup);
    if (apiGroup !== undefined) for (const m of isDNS1123Subdomain(apiGroup)) causes.push(fieldInvalid(child(pp, "apiGroup"), apiGroup, m));
    for (const f of ["kind", "name"]) {
      const v = asStr(params[f]) ?? "";
      if (v === "") causes.push(fieldRequired(child(pp, f)));
      else for (const m of validateName(v, "path", false)) causes.push(fieldInvalid(child(pp, f), v, m));
    }
    const scope = asStr(params.scope);
    if (scope === undefined) causes.push(fieldRequired(child(pp, "scope")));
    else if (scope !== "Cluster" && scope !== "Namespace") causes.push(fieldNotSupported(child(pp, "scope"), scope, ["Cluster", "Namespace"]));
    else if (scope === "Namespace" && isNil(params.namespace)) causes.push(fieldRequired(child(pp, "namespace"), "`parameters.scope` is set to 'Namespace'"));
    else if (scope === "Cluster" && !isNil(params.namespace)) causes.push(fieldForbidden(child(pp, "namespace"), "`parameters.scope` is set to 'Cluster'"));
  }
  if (old && controller !== strAt(old, "spec", "controller")) causes.push(fieldInvalid("spec.controller", controller, "field is immutable"));
  return causes;
}

const PROTOCOLS = ["TCP", "UDP", "SCTP"];

function validatePolicyPort(p: JsonObject, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!isNil(p.protocol) && !PROTOCOLS.includes(String(p.protocol))) causes.push(fieldNotSupported(child(path, "protocol"), p.protocol, PROTOCOLS));
  const endPort = asNum(p.endPort);
  if (typeof p.port === "number") {
    for (const m of isValidPortNum(p.port)) causes.push(fieldInvalid(child(path, "port"), p.port, m));
    if (endPort !== undefined) {
      if (endPort < p.port) causes.push(fieldInvalid(child(path, "endPort"), p.port, "must be greater than or equal to `port`"));
      for (const m of isValidPortNum(endPort)) causes.push(fieldInvalid(child(path, "endPort"), endPort, m));
    }
  } else if (typeof p.port === "string") {
    if (endPort !== undefined) causes.push(fieldInvalid(child(path, "endPort"), endPort, "may not be specified when `port` is non-numeric"));
    for (const m of isValidPortName(p.port)) causes.push(fieldInvalid(child(path, "port"), p.port, m));
  } else if (endPort !== undefined) causes.push(fieldInvalid(child(path, "endPort"), endPort, "may not be specified when `port` is not specified"));
  return causes;
}

const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+:[0-9a-fA-F:.]*\/\d{1,3})$/;

function validatePeer(p: JsonObject, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  let n = 0;
  for (const f of ["podSelector", "namespaceSelector"]) {
    if (isNil(p[f])) continue;
    n++;
    causes.push(...validateLabelSelector(p[f], child(path, f)));
  }
  const ipBlock = asObj(p.ipBlock);
  if (ipBlock) {
    n++;
    const cidr = asStr(ipBlock.cidr) ?? "";
    if (cidr === "") causes.push(fieldRequired(child(path, "ipBlock", "cidr")));
    else if (!CIDR.test(cidr)) causes.push(fieldInvalid(child(path, "ipBlock", "cidr"), cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
  }
  if (n === 0) causes.push(fieldRequired(path, "must specify a peer"));
  else if (n > 1 && ipBlock) causes.push(fieldForbidden(path, "may not specify both ipBlock and another peer"));
  return causes;
}

/** ValidateNetworkPolicySpec. */
export function validateNetworkPolicy(o: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes = validateLabelSelector(spec.podSelector, "spec.podSelector");
  for (const [dir, peers] of [["ingress", "from"], ["egress", "to"]] as const) {
    objsAt(spec, dir).forEach((rule, i) => {
      const rp = index(child("spec", dir), i);
      objsAt(rule, "ports").forEach((p, j) => causes.push(...validatePolicyPort(p, index(child(rp, "ports"), j))));
      objsAt(rule, peers).forEach((p, j) => causes.push(...validatePeer(p, index(child(rp, peers), j))));
    });
  }
  const types = asArr(spec.policyTypes);
  if (types.length > 2) causes.push(fieldInvalid("spec.policyTypes", types, "may not specify more than two policyTypes"));
  else types.forEach((t, i) => {
    if (t !== "Ingress" && t !== "Egress") causes.push(fieldNotSupported(index("spec.policyTypes", i), t, ["Ingress", "Egress"]));
  });
  return causes;
}

function formatHosts(o: KubeObject): string {
  const rules = objsAt(o, "spec", "rules");
  const list: string[] = [];
  const max = 3;
  let more = false;
  for (const r of rules) {
    if (list.length === max) more = true;
    const host = asStr(r.host) ?? "";
    if (!more && host !== "") list.push(host);
  }
  if (list.length === 0) return "*";
  return more ? `${list.join(",")} + ${rules.length - max} more...` : list.join(",");
}

function ingressAddress(o: KubeObject): string {
  const seen = new Set<string>();
  for (const i of objsAt(o, "status", "loadBalancer", "ingress")) {
    const v = asStr(i.ip) || asStr(i.hostname) || "";
    if (v !== "") seen.add(v);
  }
  return [...seen].join(",");
}

export const ingressType: ResourceTypeInit = {
  group: "networking.k8s.io",
  version: "v1",
  kind: "Ingress",
  plural: "ingresses",
  singular: "ingress",
  shortNames: ["ing"],
  namespaced: true,
  schema: INGRESS_SCHEMA,
  subresources: { status: true },
  columns: [
    nameColumn(),
    column("Class", "string", "The name of the IngressClass resource that should be used for additional configuration", (o) => {
      const c = getPath(o, "spec", "ingressClassName");
      return typeof c === "string" ? c : "<none>";
    }),
    column("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule", formatHosts),
    column("Address", "string", "Address is a list containing ingress points for the load-balancer", ingressAddress),
    column("Ports", "string", "Ports of TLS configurations that open", (o) => (objsAt(o, "spec", "tls").length > 0 ? "80, 443" : "80")),
    ageColumn(),
  ],
  strategy: {
    validate: validateIngress,
    prepareForCreate(o) {
      o.status = { loadBalancer: {} };
    },
  },
};

export const ingressClassType: ResourceTypeInit = {
  group: "networking.k8s.io",
  version: "v1",
  kind: "IngressClass",
  plural: "ingressclasses",
  singular: "ingressclass",
  namespaced: false,
  schema: INGRESS_CLASS_SCHEMA,
  columns: [
    nameColumn(),
    column("Controller", "string", "Controller that is responsible for handling this class", (o) => strAt(o, "spec", "controller")),
    column("Parameters", "string", "A reference to a resource with additional parameters", (o) => {
      const p = asObj(getPath(o, "spec", "parameters"));
      if (!p) return "<none>";
      const group = asStr(p.apiGroup);
      return `${String(p.kind ?? "")}${group !== undefined ? `.${group}` : ""}/${String(p.name ?? "")}`;
    }),
    ageColumn(),
  ],
  strategy: {
    defaults(o) {
      const params = asObj(getPath(o, "spec", "parameters"));
      if (params && isNil(params.scope)) params.scope = "Cluster";
    },
    validate: validateIngressClass,
  },
};

export const networkPolicyType: ResourceTypeInit = {
  group: "networking.k8s.io",
  version: "v1",
  kind: "NetworkPolicy",
  plural: "networkpolicies",
  singular: "networkpolicy",
  shortNames: ["netpol"],
  namespaced: true,
  schema: NETWORK_POLICY_SCHEMA,
  columns: [
    nameColumn(),
    column(
      "Pod-Selector",
      "string",
      "podSelector selects the pods to which this NetworkPolicy object applies. The array of rules is applied to any pods selected by this field. An empty selector matches all pods in this namespace.",
      (o) => formatLabelSelector(getPath(o, "spec", "podSelector") ?? {}),
    ),
    ageColumn(),
  ],
  strategy: {
    defaults(o) {
      const spec = ensureObj(o as JsonObject, "spec");
      if (isNil(spec.podSelector)) spec.podSelector = {};
      for (const dir of ["ingress", "egress"]) for (const rule of objsAt(spec, dir)) for (const p of objsAt(rule, "ports")) if (isNil(p.protocol)) p.protocol = "TCP";
      if (asArr(spec.policyTypes).length === 0) spec.policyTypes = asArr(spec.egress).length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
    },
    validate: validateNetworkPolicy,
  },
};

/** Every networking.k8s.io/v1 kind, in discovery order. */
export function networkingV1Types(): ResourceTypeInit[] {
  return [ingressClassType, ingressType, networkPolicyType];
}
