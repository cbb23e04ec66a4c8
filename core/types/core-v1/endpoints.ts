/**
 * @module The core/v1 Endpoints kind: schema, port protocol defaults,
 * address and port validation, and the ENDPOINTS column (`ip:port`, at most
 * three, then `+ N more...`).
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { isDNS1123Label } from "../../api/validation.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { child, fieldInvalid, fieldRequired, index } from "../field-errors.ts";
import { asArr, asNum, asObj, asStr, objsAt, setDefault } from "../object-access.ts";
import { atomic, int32, kindSchema, obj, ref, str } from "../schema-dsl.ts";
import { ageColumn, column, nameColumn } from "../table.ts";
import { isValidPortNum, validateProtocol } from "./common-validation.ts";
import { CORE } from "./container-schema.ts";
import { OBJECT_REFERENCE } from "./pod.ts";

const ENDPOINT_ADDRESS = obj(
  `${CORE}.EndpointAddress`,
  { hostname: str(), ip: str(), nodeName: str(), targetRef: ref(OBJECT_REFERENCE) },
  { required: ["ip"], mapType: "atomic" },
);

const ENDPOINT_PORT = obj(
  `${CORE}.EndpointPort`,
  { appProtocol: str(), name: str(), port: int32(), protocol: str() },
  { required: ["port"], mapType: "atomic" },
);

export const ENDPOINTS_SCHEMA = kindSchema(`${CORE}.Endpoints`, { group: "", version: "v1", kind: "Endpoints" }, ref(OBJECT_META), {
  subsets: atomic(
    obj(`${CORE}.EndpointSubset`, {
      addresses: atomic(ENDPOINT_ADDRESS),
      notReadyAddresses: atomic(ENDPOINT_ADDRESS),
      ports: atomic(ENDPOINT_PORT),
    }),
  ),
});

export function defaultEndpoints(o: KubeObject): void {
  for (const subset of objsAt(o, "subsets")) for (const p of objsAt(subset, "ports")) setDefault(p, "protocol", "TCP");
}

export function validateEndpoints(o: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  asArr(o.subsets).forEach((raw, i) => {
    const s = asObj(raw) ?? {};
    const sp = index("subsets", i);
    for (const field of ["addresses", "notReadyAddresses"]) {
      asArr(s[field]).forEach((a, j) => {
        const ip = asStr(asObj(a)?.ip) ?? "";
        if (ip === "") causes.push(fieldRequired(child(index(child(sp, field), j), "ip")));
      });
    }
    const ports = asArr(s.ports);
    ports.forEach((p, j) => {
      const pp = index(child(sp, "ports"), j);
      const port = asObj(p) ?? {};
      const name = asStr(port.name) ?? "";
      if (ports.length > 1 && name === "") causes.push(fieldRequired(child(pp, "name")));
      else if (name !== "") for (const m of isDNS1123Label(name)) causes.push(fieldInvalid(child(pp, "name"), name, m));
      const n = asNum(port.port) ?? 0;
      for (const m of isValidPortNum(n)) causes.push(fieldInvalid(child(pp, "port"), n, m));
      causes.push(...validateProtocol(port.protocol, child(pp, "protocol")));
    });
  });
  return causes;
}

function joinHostPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** formatEndpoints(endpoints, nil). */
export function formatEndpoints(o: KubeObject): string {
  const subsets = objsAt(o, "subsets");
  if (subsets.length === 0) return "<none>";
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = objsAt(ss, "addresses");
    const ports = objsAt(ss, "ports");
    if (ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(asStr(a.ip) ?? "");
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(asStr(a.ip) ?? "", asNum(port.port) ?? 0));
      }
    }
  }
  const ret = list.join(",");
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "Endpoints",
  plural: "endpoints",
  singular: "endpoints",
  shortNames: ["ep"],
  namespaced: true,
  tracksGeneration: false,
  schema: ENDPOINTS_SCHEMA,
  columns: [
    nameColumn(),
    column(
      "Endpoints",
      "string",
      "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.",
      formatEndpoints,
    ),
    ageColumn(),
  ],
  strategy: { defaults: defaultEndpoints, validate: validateEndpoints },
};
