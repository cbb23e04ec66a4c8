/**
 * @module The core/v1 Service kind: schema, upstream defaults (type,
 * sessionAffinity, port protocol and targetPort, traffic policies, a single
 * IPv4 family), clusterIP/clusterIPs normalization, keeping allocated values
 * on update, validation and the `kubectl get svc` columns. Allocating cluster
 * IPs and node ports is not done here.
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { isDNS1123Label, isDNS1123Subdomain, goQuote, validateLabels } from "../../api/validation.ts";
import { CONDITION, OBJECT_META } from "../meta-schemas.ts";
import {
  child,
  fieldDuplicate,
  fieldForbidden,
  fieldInvalid,
  fieldInvalidRendered,
  fieldNotSupported,
  fieldRequired,
  index,
} from "../field-errors.ts";
import { asArr, asNum, asObj, asStr, ensureObj, isNil, objsAt, setDefault, strAt, type JsonObject } from "../object-access.ts";
import { atomic, bool, int32, intOrString, keyed, kindSchema, obj, ref, str, strMap } from "../schema-dsl.ts";
import { ageColumn, column, formatLabels, nameColumn } from "../table.ts";
import { isValidPortNum, validatePortNumOrName, validateProtocol } from "./common-validation.ts";
import { CORE } from "./container-schema.ts";

const SERVICE_PORT = obj(
  `${CORE}.ServicePort`,
  { appProtocol: str(), name: str(), nodePort: int32(), port: int32(), protocol: str({ default: "TCP" }), targetPort: intOrString() },
  { required: ["port"] },
);

const SERVICE_SPEC = obj(`${CORE}.ServiceSpec`, {
  allocateLoadBalancerNodePorts: bool(),
  clusterIP: str(),
  clusterIPs: atomic(str()),
  externalIPs: atomic(str()),
  externalName: str(),
  externalTrafficPolicy: str(),
  healthCheckNodePort: int32(),
  internalTrafficPolicy: str(),
  ipFamilies: atomic(str()),
  ipFamilyPolicy: str(),
  loadBalancerClass: str(),
  loadBalancerIP: str(),
  loadBalancerSourceRanges: atomic(str()),
  ports: keyed(SERVICE_PORT, ["port", "protocol"]),
  publishNotReadyAddresses: bool(),
  selector: strMap({ mapType: "atomic" }),
  sessionAffinity: str(),
  sessionAffinityConfig: obj(`${CORE}.SessionAffinityConfig`, {
    clientIP: obj(`${CORE}.ClientIPConfig`, { timeoutSeconds: int32() }),
  }),
  trafficDistribution: str(),
  type: str(),
});

const PORT_STATUS = obj(`${CORE}.PortStatus`, { error: str(), port: int32(), protocol: str() }, { required: ["port", "protocol"] });

const SERVICE_STATUS = obj(`${CORE}.ServiceStatus`, {
  conditions: keyed(CONDITION, ["type"]),
  loadBalancer: obj(`${CORE}.LoadBalancerStatus`, {
    ingress: atomic(obj(`${CORE}.LoadBalancerIngress`, { hostname: str(), ip: str(), ipMode: str(), ports: atomic(PORT_STATUS) })),
  }),
});

export const SERVICE_SCHEMA = kindSchema(`${CORE}.Service`, { group: "", version: "v1", kind: "Service" }, ref(OBJECT_META), {
  spec: ref(SERVICE_SPEC),
  status: ref(SERVICE_STATUS),
});

function externallyAccessible(spec: JsonObject): boolean {
  const t = spec.type;
  return t === "LoadBalancer" || t === "NodePort" || (t === "ClusterIP" && asArr(spec.externalIPs).length > 0);
}

/** SetDefaults_Service, clusterIP/clusterIPs normalization and the single-stack IP family. */
export function defaultService(o: JsonObject): void {
  const spec = ensureObj(o, "spec");
  setDefault(spec, "sessionAffinity", "None");
  if (spec.sessionAffinity === "None") delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === "ClientIP") {
    const timeout = asObj(asObj(asObj(spec.sessionAffinityConfig)?.clientIP))?.timeoutSeconds;
    if (isNil(timeout)) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  setDefault(spec, "type", "ClusterIP");
  for (const p of objsAt(spec, "ports")) {
    setDefault(p, "protocol", "TCP");
    if (isNil(p.targetPort) || p.targetPort === 0 || p.targetPort === "") {
      if (typeof p.port === "number") p.targetPort = p.port;
    }
  }
  if (externallyAccessible(spec)) setDefault(spec, "externalTrafficPolicy", "Cluster");
  if (isNil(spec.internalTrafficPolicy) && ["NodePort", "LoadBalancer", "ClusterIP"].includes(String(spec.type))) {
    spec.internalTrafficPolicy = "Cluster";
  }
  if (spec.type === "LoadBalancer" && isNil(spec.allocateLoadBalancerNodePorts)) spec.allocateLoadBalancerNodePorts = true;
  const clusterIP = asStr(spec.clusterIP) ?? "";
  const clusterIPs = asArr(spec.clusterIPs);
  if (clusterIP !== "" && clusterIPs.length === 0) spec.clusterIPs = [clusterIP];
  else if (clusterIP === "" && typeof clusterIPs[0] === "string") spec.clusterIP = clusterIPs[0];
  if (spec.type !== "ExternalName") {
    if (isNil(spec.ipFamilyPolicy) || spec.ipFamilyPolicy === "") spec.ipFamilyPolicy = "SingleStack";
    if (asArr(spec.ipFamilies).length === 0) spec.ipFamilies = ["IPv4"];
  }
}

function needsNodePort(spec: JsonObject): boolean {
  return spec.type === "NodePort" || (spec.type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts !== false);
}

/** Upstream patchAllocatedValues: a PUT that omits allocated values keeps the old ones. */
export function keepAllocatedValues(o: KubeObject, old: KubeObject): void {
  const spec = asObj(o.spec);
  const oldSpec = asObj(old.spec);
  if (!spec || !oldSpec) return;
  if (spec.type !== "ExternalName" && oldSpec.type !== "ExternalName") {
    if ((asStr(spec.clusterIP) ?? "") === "" && !isNil(oldSpec.clusterIP)) spec.clusterIP = oldSpec.clusterIP;
    if (asArr(spec.clusterIPs).length === 0 && asArr(oldSpec.clusterIPs).length > 0) spec.clusterIPs = structuredClone(oldSpec.clusterIPs);
    for (const f of ["ipFamilies", "ipFamilyPolicy"]) if (isNil(spec[f]) && !isNil(oldSpec[f])) spec[f] = structuredClone(oldSpec[f]);
  }
  // NormalizeClusterIPs: an old client changed only the singular field.
  const ip = asStr(spec.clusterIP) ?? "";
  if (ip !== (asStr(oldSpec.clusterIP) ?? "") && JSON.stringify(asArr(spec.clusterIPs)) === JSON.stringify(asArr(oldSpec.clusterIPs))) {
    if (ip === "") delete spec.clusterIPs;
    else spec.clusterIPs = [ip];
  }
  if (needsNodePort(spec) && needsNodePort(oldSpec)) {
    const nodePorts = (s: JsonObject) => new Set(objsAt(s, "ports").map((p) => asNum(p.nodePort) ?? 0).filter((n) => n !== 0));
    const newUsed = nodePorts(spec);
    const used = new Set([...nodePorts(oldSpec)].filter((n) => newUsed.has(n)));
    const byName = new Map(objsAt(oldSpec, "ports").map((p) => [asStr(p.name) ?? "", asNum(p.nodePort) ?? 0]));
    for (const p of objsAt(spec, "ports")) {
      if ((asNum(p.nodePort) ?? 0) !== 0) continue;
      const oldVal = byName.get(asStr(p.name) ?? "") ?? 0;
      if (oldVal !== 0 && !used.has(oldVal)) p.nodePort = oldVal;
    }
  }
  if (spec.type === "LoadBalancer" && spec.externalTrafficPolicy === "Local" && (asNum(spec.healthCheckNodePort) ?? 0) === 0) {
    if (!isNil(oldSpec.healthCheckNodePort)) spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
  }
}

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

function isIP(s: string): boolean {
  if (/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s)) return true;
  return s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s) && (s.match(/::/g) ?? []).length <= 1;
}

function goServicePortKey(port: unknown, protocol: unknown): string {
  return `core.ServicePort{Name:"", Protocol:${goQuote(String(protocol ?? ""))}, AppProtocol:(*string)(nil), Port:${String(port ?? 0)}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

export function validateService(o: KubeObject, old?: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes: StatusCause[] = [];
  const name = o.metadata.name ?? "";
  if (/^[0-9]/.test(name) && isDNS1123Label(name).length === 0) causes.push(fieldInvalid("metadata.name", name, DNS1035_MSG));
  const type = asStr(spec.type) ?? "";
  if (!SERVICE_TYPES.includes(type)) causes.push(fieldNotSupported("spec.type", type, SERVICE_TYPES));
  const clusterIP = asStr(spec.clusterIP) ?? "";
  const headless = clusterIP === "None";
  const ports = asArr(spec.ports);
  if (type === "ExternalName") {
    const name = asStr(spec.externalName) ?? "";
    if (name === "") causes.push(fieldRequired("spec.externalName"));
    else for (const m of isDNS1123Subdomain(name.replace(/\.$/, ""))) causes.push(fieldInvalid("spec.externalName", name, m));
  } else if (ports.length === 0 && !headless) {
    causes.push(fieldRequired("spec.ports"));
  }
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((raw, i) => {
    const p = asObj(raw) ?? {};
    const pp = index("spec.ports", i);
    const name = asStr(p.name) ?? "";
    if (ports.length > 1 && name === "") causes.push(fieldRequired(child(pp, "name")));
    else if (name !== "") {
      for (const m of isDNS1123Label(name)) causes.push(fieldInvalid(child(pp, "name"), name, m));
      if (names.has(name)) causes.push(fieldDuplicate(child(pp, "name"), name));
      names.add(name);
    }
    const port = asNum(p.port) ?? 0;
    for (const m of isValidPortNum(port)) causes.push(fieldInvalid(child(pp, "port"), port, m));
    causes.push(...validateProtocol(p.protocol, child(pp, "protocol")));
    if (!isNil(p.targetPort)) causes.push(...validatePortNumOrName(p.targetPort, child(pp, "targetPort")));
    const nodePort = asNum(p.nodePort) ?? 0;
    if (nodePort !== 0) {
      if (type === "ClusterIP" || type === "ExternalName") {
        causes.push(fieldForbidden(child(pp, "nodePort"), `may not be used when \`type\` is '${type}'`));
      } else for (const m of isValidPortNum(nodePort)) causes.push(fieldInvalid(child(pp, "nodePort"), nodePort, m));
    }
    const key = `${port}/${String(p.protocol)}`;
    if (keys.has(key)) {
      causes.push({ reason: "FieldValueDuplicate", field: pp, message: `Duplicate value: ${goServicePortKey(p.port, p.protocol)}` });
    }
    keys.add(key);
  });
  asArr(spec.clusterIPs).forEach((ip, i) => {
    const s = String(ip);
    if (s !== "None" && !isIP(s)) causes.push(fieldInvalid(index("spec.clusterIPs", i), s, IP_MSG));
  });
  asArr(spec.externalIPs).forEach((ip, i) => {
    if (!isIP(String(ip))) causes.push(fieldInvalid(index("spec.externalIPs", i), String(ip), IP_MSG));
  });
  const affinity = asStr(spec.sessionAffinity) ?? "";
  if (affinity !== "None" && affinity !== "ClientIP") causes.push(fieldNotSupported("spec.sessionAffinity", affinity, ["ClientIP", "None"]));
  const etp = asStr(spec.externalTrafficPolicy) ?? "";
  if (etp !== "") {
    if (!externallyAccessible(spec)) {
      causes.push(fieldInvalid("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services"));
    } else if (etp !== "Cluster" && etp !== "Local") causes.push(fieldNotSupported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"]));
  }
  const itp = asStr(spec.internalTrafficPolicy);
  if (itp !== undefined && itp !== "Cluster" && itp !== "Local") causes.push(fieldNotSupported("spec.internalTrafficPolicy", itp, ["Cluster", "Local"]));
  const ifp = asStr(spec.ipFamilyPolicy);
  const policies = ["PreferDualStack", "RequireDualStack", "SingleStack"];
  if (ifp !== undefined && !policies.includes(ifp)) causes.push(fieldNotSupported("spec.ipFamilyPolicy", ifp, policies));
  causes.push(...validateLabels(spec.selector, "spec.selector"));
  if (old) {
    const oldIPs = asArr(asObj(old.spec)?.clusterIPs);
    const newIPs = asArr(spec.clusterIPs);
    if (oldIPs.length > 0 && type !== "ExternalName" && asObj(old.spec)?.type !== "ExternalName" && newIPs[0] !== oldIPs[0]) {
      const rendered = `[]string{${newIPs.map((x) => goQuote(String(x))).join(", ")}}`;
      causes.push(fieldInvalidRendered("spec.clusterIPs[0]", rendered, "may not change once set"));
    }
  }
  return causes;
}

function externalIP(o: KubeObject): string {
  const spec = asObj(o.spec) ?? {};
  const ext = asArr(spec.externalIPs).map(String);
  switch (spec.type) {
    case "ClusterIP":
    case "NodePort":
      return ext.length > 0 ? ext.join(",") : "<none>";
    case "LoadBalancer": {
      const lb = [
        ...new Set(
          objsAt(o, "status", "loadBalancer", "ingress")
            .map((i) => (asStr(i.ip) ?? "") || (asStr(i.hostname) ?? ""))
            .filter((s) => s !== ""),
        ),
      ].sort();
      if (ext.length > 0) return [...lb, ...ext].join(",");
      return lb.length > 0 ? lb.join(",") : "<pending>";
    }
    case "ExternalName":
      return strAt(o, "spec", "externalName");
    default:
      return "<unknown>";
  }
}

function portString(o: KubeObject): string {
  const s = objsAt(o, "spec", "ports")
    .map((p) => {
      const proto = asStr(p.protocol) ?? "";
      const nodePort = asNum(p.nodePort) ?? 0;
      return nodePort > 0 ? `${String(p.port)}:${nodePort}/${proto}` : `${String(p.port)}/${proto}`;
    })
    .join(",");
  return s === "" ? "<none>" : s;
}

export const serviceType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "Service",
  plural: "services",
  singular: "service",
  shortNames: ["svc"],
  namespaced: true,
  categories: ["all"],
  tracksGeneration: false,
  nameValidation: "label",
  schema: SERVICE_SCHEMA,
  subresources: { status: true },
  columns: [
    nameColumn(),
    column("Type", "string", "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer.", (o) => strAt(o, "spec", "type")),
    column("Cluster-IP", "string", "clusterIP is the IP address of the service and is usually assigned randomly.", (o) => {
      const ips = asArr(asObj(o.spec)?.clusterIPs);
      return typeof ips[0] === "string" ? ips[0] : strAt(o, "spec", "clusterIP") || "<none>";
    }),
    column("External-IP", "string", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.", externalIP),
    column("Port(s)", "string", "The list of ports that are exposed by this service.", portString),
    ageColumn(),
    column("Selector", "string", "Route service traffic to pods with label keys and values matching this selector.", (o) => formatLabels(asObj(o.spec)?.selector), 1),
  ],
  strategy: {
    defaults: (o) => defaultService(o as JsonObject),
    validate: validateService,
    prepareForCreate(o) {
      o.status = { loadBalancer: {} };
    },
    prepareForUpdate: keepAllocatedValues,
  },
};
