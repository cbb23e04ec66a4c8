/** @module Tests for discovery.k8s.io/v1 EndpointSlice: port defaults, address/port validation, immutability, columns. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import { admitCreate, admitUpdate, describeCauses } from "../test-helpers.ts";
import { endpointSliceType } from "./index.ts";

function slice(extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-abc", namespace: "default", creationTimestamp: "2024-06-01T11:00:00Z" },
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.0.0.1"], conditions: { ready: true } }],
    ports: [{ port: 80 }],
    ...extra,
  };
}

describe("EndpointSlice", () => {
  test("ports default name \"\" and protocol TCP", () => {
    const { obj, causes } = admitCreate(endpointSliceType, slice());
    expect(causes).toEqual([]);
    expect(obj.ports).toEqual([{ name: "", port: 80, protocol: "TCP" }]);
  });

  test("addressType and addresses", () => {
    expect(describeCauses(admitCreate(endpointSliceType, slice({ addressType: undefined })).causes)).toEqual(["addressType: Required value"]);
    expect(describeCauses(admitCreate(endpointSliceType, slice({ addressType: "IP" })).causes)).toEqual([
      'addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"',
    ]);
    const bad = slice({ endpoints: [{ addresses: ["10.0.0.300", "127.0.0.1"] }, { addresses: [] }], ports: [{ name: "Web", protocol: "HTTP" }, { name: "Web" }] });
    expect(describeCauses(admitCreate(endpointSliceType, bad).causes)).toEqual([
      'endpoints[0].addresses[0]: Invalid value: "10.0.0.300": must be a valid IPv4 address',
      'endpoints[0].addresses[1]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
      "endpoints[1].addresses: Required value: must contain at least 1 address",
      "ports[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      'ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      "ports[1].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      'ports[1].name: Duplicate value: "Web"',
    ]);
    expect(admitCreate(endpointSliceType, slice({ addressType: "IPv6", endpoints: [{ addresses: ["2001:db8::1"] }] })).causes).toEqual([]);
    expect(describeCauses(admitCreate(endpointSliceType, slice({ addressType: "IPv6", endpoints: [{ addresses: ["fe80::1"] }] })).causes)).toEqual([
      'endpoints[0].addresses[0]: Invalid value: "fe80::1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
    ]);
  });

  test("addressType is immutable", () => {
    const old = admitCreate(endpointSliceType, slice()).obj;
    expect(describeCauses(admitUpdate(endpointSliceType, { ...old, addressType: "FQDN", endpoints: [{ addresses: ["a.example.com"] }] }, old).causes)).toEqual([
      'addressType: Invalid value: "FQDN": field is immutable',
    ]);
  });

  test("NAME ADDRESSTYPE PORTS ENDPOINTS AGE", () => {
    const o = slice({
      endpoints: [{ addresses: ["10.0.0.1", "10.0.0.2"] }, { addresses: ["10.0.0.3", "10.0.0.4"] }],
      ports: [{ port: 80 }, { port: 443 }, { name: "x" }, { port: 9090 }],
    });
    expect((endpointSliceType.columns ?? []).map((c) => c.cell(o as unknown as KubeObject, Date.parse("2024-06-01T12:00:00Z")))).toEqual([
      "web-abc",
      "IPv4",
      "80,443,x + 1 more...",
      "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...",
      "60m",
    ]);
    expect((endpointSliceType.columns ?? [])[3]?.cell(slice({ endpoints: [] }) as unknown as KubeObject, 0)).toBe("<unset>");
  });
});
