/**
 * @module discovery.k8s.io/v1 EndpointSlice: schema, port defaults (name "",
 * protocol TCP), upstream's address-type, address, port and hint validation,
 * and the NAME ADDRESSTYPE PORTS ENDPOINTS AGE columns.
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, validateLabels } from "../../api/validation.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { child, fieldDuplicate, fieldInvalid, fieldNotSupported, fieldRequired, fieldTooMany, index } from "../field-errors.ts";
import { asArr, asNum, asObj, asStr, isNil, objsAt, strAt } from "../object-access.ts";
import { atomic, bool, int32, kindSchema, obj, ref, set, str, strMap } from "../schema-dsl.ts";
import { ageColumn, column, listWithMore, nameColumn } from "../table.ts";
import { OBJECT_REFERENCE } from "../core-v1/pod.ts";

const DISCOVERY = "io.k8s.api.discovery.v1";

const ENDPOINT = obj(
  `${DISCOVERY}.Endpoint`,
  {
    addresses: set(str()),
    conditions: obj(`${DISCOVERY}.EndpointConditions`, { ready: bool(), serving: bool(), terminating: bool() }),
    deprecatedTopology: strMap(),
    hints: obj(`${DISCOVERY}.EndpointHints`, { forZones: atomic(obj(`${DISCOVERY}.ForZone`, { name: str() }, { required: ["name"] })) }),
    hostname: str(),
    nodeName: str(),
    targetRef: ref(OBJECT_REFERENCE),
    zone: str(),
  },
  { required: ["addresses"] },
);

const ENDPOINT_PORT = obj(`${DISCOVERY}.EndpointPort`, { appProtocol: str(), name: str(), port: int32(), protocol: str() }, { mapType: "atomic" });

export const ENDPOINT_SLICE_SCHEMA = kindSchema(
  `${DISCOVERY}.EndpointSlice`,
  { group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice" },
  ref(OBJECT_META),
  { addressType: str(), endpoints: atomic(ENDPOINT), ports: atomic(ENDPOINT_PORT) },
);
ENDPOINT_SLICE_SCHEMA.required = ["addressType", "endpoints"];

const ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ZONE_HINTS = 8;

function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** The compressed form of an IPv6 address, or undefined when `s` is not one. */
function ipv6(s: string): string | undefined {
  if (!s.includes(":") || s.includes("%") || s.includes("[")) return undefined;
  try {
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** ValidateNonSpecialIP. */
function nonSpecial(addr: string, path: string, v6: string | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const first = v6 ? Number.parseInt(v6.split(":")[0] || "0", 16) : 0;
  const unspecified = v6 ? v6 === "::" : addr.split(".").every((p) => Number(p) === 0);
  const loopback = v6 ? v6 === "::1" : Number(addr.split(".")[0]) === 127;
  const linkLocal = v6 ? (first & 0xffc0) === 0xfe80 : addr.startsWith("169.254.");
  const llMulticast = v6 ? first === 0xff02 : /^224\.0\.0\.\d+$/.test(addr);
  if (unspecified) causes.push(fieldInvalid(path, addr, `may not be unspecified (${addr})`));
  if (loopback) causes.push(fieldInvalid(path, addr, "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
  if (linkLocal) causes.push(fieldInvalid(path, addr, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
  if (llMulticast) causes.push(fieldInvalid(path, addr, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"));
  return causes;
}

/** IsFullyQualifiedDomainName. */
function validateFqdn(nameIn: string, path: string): StatusCause[] {
  if (nameIn === "") return [fieldRequired(path)];
  const name = nameIn.endsWith(".") ? nameIn.slice(0, -1) : nameIn;
  const errs = isDNS1123Subdomain(name);
  if (errs.length > 0) return [fieldInvalid(path, name, errs.join(","))];
  const labels = name.split(".");
  if (labels.length < 2) return [fieldInvalid(path, name, "should be a domain with at least two segments separated by dots")];
  for (const label of labels) {
    const e = isDNS1123Label(label);
    if (e.length > 0) return [fieldInvalid(path, label, e.join(","))];
  }
  return [];
}

function validateAddress(addr: string, type: string, path: string): StatusCause[] {
  if (type === "IPv4") return isIPv4(addr) ? nonSpecial(addr, path, undefined) : [fieldInvalid(path, addr, "must be a valid IPv4 address")];
  if (type === "IPv6") {
    const v6 = ipv6(addr);
    return v6 ? nonSpecial(addr, path, v6) : [fieldInvalid(path, addr, "must be a valid IPv6 address")];
  }
  if (type === "FQDN") return validateFqdn(addr, path);
  return [];
}

function validateEndpoints(o: KubeObject, type: string): StatusCause[] {
  const endpoints = asArr(o.endpoints);
  if (endpoints.length > MAX_ENDPOINTS) return [fieldTooMany("endpoints", endpoints.length, MAX_ENDPOINTS)];
  const causes: StatusCause[] = [];
  endpoints.forEach((raw, i) => {
    const e = asObj(raw) ?? {};
    const p = index("endpoints", i);
    const ap = child(p, "addresses");
    const addresses = asArr(e.addresses);
    if (addresses.length === 0) causes.push(fieldRequired(ap, "must contain at least 1 address"));
    else if (addresses.length > MAX_ADDRESSES) causes.push(fieldTooMany(ap, addresses.length, MAX_ADDRESSES));
    addresses.forEach((a, j) => causes.push(...validateAddress(String(a), type, index(ap, j))));
    const nodeName = asStr(e.nodeName);
    if (nodeName !== undefined) for (const m of isDNS1123Subdomain(nodeName)) causes.push(fieldInvalid(child(p, "nodeName"), nodeName, m));
    const topology = asObj(e.deprecatedTopology);
    if (topology && Object.keys(topology).length > MAX_TOPOLOGY_LABELS) {
      causes.push(fieldTooMany(child(p, "deprecatedTopology"), Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
    }
    causes.push(...validateLabels(e.deprecatedTopology, child(p, "deprecatedTopology")));
    const hostname = asStr(e.hostname);
    if (hostname !== undefined) for (const m of isDNS1123Label(hostname)) causes.push(fieldInvalid(child(p, "hostname"), hostname, m));
    const zones = objsAt(e, "hints", "forZones");
    const zp = child(p, "hints", "forZones");
    if (zones.length > MAX_ZONE_HINTS) causes.push(fieldTooMany(zp, zones.length, MAX_ZONE_HINTS));
    const seen = new Set<string>();
    zones.forEach((z, j) => {
      const name = String(z.name ?? "");
      if (seen.has(name)) causes.push(fieldDuplicate(child(index(zp, j), "name"), name));
      seen.add(name);
      for (const m of isDNS1123Label(name.toLowerCase())) causes.push(fieldInvalid(child(index(zp, j), "name"), name, m));
    });
  });
  return causes;
}

function validatePorts(o: KubeObject): StatusCause[] {
  const ports = asArr(o.ports);
  if (ports.length > MAX_PORTS) return [fieldTooMany("ports", ports.length, MAX_PORTS)];
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  ports.forEach((raw, i) => {
    const port = asObj(raw) ?? {};
    const p = index("ports", i);
    const name = asStr(port.name) ?? "";
    if (name !== "") for (const m of isDNS1123Label(name)) causes.push(fieldInvalid(child(p, "name"), name, m));
    if (names.has(name)) causes.push(fieldDuplicate(child(p, "name"), name));
    names.add(name);
    if (isNil(port.protocol)) causes.push(fieldRequired(child(p, "protocol")));
    else if (!PROTOCOLS.includes(String(port.protocol))) causes.push(fieldNotSupported(child(p, "protocol"), port.protocol, PROTOCOLS));
    const app = asStr(port.appProtocol);
    if (app !== undefined) for (const m of isQualifiedName(app)) causes.push(fieldInvalid(child(p, "appProtocol"), app, m));
  });
  return causes;
}

/** ValidateEndpointSliceCreate / ValidateEndpointSliceUpdate. */
export function validateEndpointSlice(o: KubeObject, old?: KubeObject): StatusCause[] {
  const type = asStr(o.addressType) ?? "";
  const causes: StatusCause[] = [];
  if (type === "") causes.push(fieldRequired("addressType"));
  else if (!ADDRESS_TYPES.includes(type)) causes.push(fieldNotSupported("addressType", type, ADDRESS_TYPES));
  causes.push(...validateEndpoints(o, type), ...validatePorts(o));
  if (old && old.addressType !== o.addressType) causes.push(fieldInvalid("addressType", type, "field is immutable"));
  return causes;
}

function formatPorts(o: KubeObject): string {
  return listWithMore(
    objsAt(o, "ports").map((p) => {
      const n = asNum(p.port);
      if (n !== undefined) return String(n);
      return typeof p.name === "string" ? p.name : "*";
    }),
    3,
  );
}

function formatAddresses(o: KubeObject): string {
  return listWithMore(
    objsAt(o, "endpoints").flatMap((e) => asArr(e.addresses).map(String)),
    3,
  );
}

export const endpointSliceType: ResourceTypeInit = {
  group: "discovery.k8s.io",
  version: "v1",
  kind: "EndpointSlice",
  plural: "endpointslices",
  singular: "endpointslice",
  namespaced: true,
  schema: ENDPOINT_SLICE_SCHEMA,
  columns: [
    nameColumn(),
    column("AddressType", "string", "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name. (Deprecated) The EndpointSlice controller only generates, and kube-proxy only processes, slices of addressType \"IPv4\" and \"IPv6\". No semantics are defined for the \"FQDN\" type.", (o) => strAt(o, "addressType")),
    column("Ports", "string", "ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. Each slice may include a maximum of 100 ports. Services always have at least 1 port, so EndpointSlices generated by the EndpointSlice controller will likewise always have at least 1 port. EndpointSlices used for other purposes may have an empty ports list.", formatPorts),
    column("Endpoints", "string", "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.", formatAddresses),
    ageColumn(),
  ],
  strategy: {
    defaults(o) {
      for (const p of objsAt(o, "ports")) {
        if (isNil(p.name)) p.name = "";
        if (isNil(p.protocol)) p.protocol = "TCP";
      }
    },
    validate: validateEndpointSlice,
  },
};

/** Every discovery.k8s.io/v1 kind. */
export function discoveryV1Types(): ResourceTypeInit[] {
  return [endpointSliceType];
}
