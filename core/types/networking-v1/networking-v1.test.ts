/** @module Tests for networking.k8s.io/v1 Ingress, IngressClass and NetworkPolicy: defaults, commonly hit validation, columns. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { admitCreate, admitUpdate, describeCauses } from "../test-helpers.ts";
import { ingressClassType, ingressType, networkPolicyType } from "./index.ts";

const NOW = Date.parse("2024-06-01T12:00:00Z");
const cells = (t: ResourceTypeInit, o: unknown) => (t.columns ?? []).map((c) => c.cell(o as KubeObject, NOW));
const backend = { service: { name: "web", port: { number: 80 } } };

function ingress(spec: Record<string, unknown>) {
  return { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "web", namespace: "default", creationTimestamp: "2024-06-01T11:00:00Z" }, spec };
}

describe("Ingress", () => {
  test("status on create; valid rules pass", () => {
    const { obj, causes } = admitCreate(ingressType, ingress({ rules: [{ host: "*.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend }] } }] }));
    expect(causes).toEqual([]);
    expect(obj.status).toEqual({ loadBalancer: {} });
  });

  test("commonly hit errors", () => {
    expect(describeCauses(admitCreate(ingressType, ingress({})).causes)).toEqual([
      "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified",
    ]);
    const { causes } = admitCreate(
      ingressType,
      ingress({
        rules: [
          {
            host: "10.0.0.1",
            http: {
              paths: [
                { path: "api", pathType: "Prefix", backend },
                { path: "/", backend },
                { path: "/", pathType: "Exact", backend: { service: { name: "web", port: { name: "http", number: 80 } } } },
                { path: "/x", pathType: "Regex", backend: { service: { name: "Web", port: {} } } },
              ],
            },
          },
        ],
      }),
    );
    expect(describeCauses(causes)).toEqual([
      'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
      'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
      "spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified",
      'spec.rules[0].http.paths[2].backend: Invalid value: "": cannot set both port name & port number',
      'spec.rules[0].http.paths[3].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
      "spec.rules[0].http.paths[3].backend.service.name: Invalid value: \"Web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      "spec.rules[0].http.paths[3].backend: Required value: port name or number is required",
    ]);
  });

  test("NAME CLASS HOSTS ADDRESS PORTS AGE", () => {
    const o = ingress({
      ingressClassName: "nginx",
      tls: [{ hosts: ["a.example.com"] }],
      rules: [{ host: "a.example.com" }, { host: "b.example.com" }, {}, { host: "c.example.com" }, { host: "d.example.com" }],
    }) as Record<string, unknown>;
    o.status = { loadBalancer: { ingress: [{ ip: "1.2.3.4" }, { hostname: "lb.example.com" }, { ip: "1.2.3.4" }] } };
    expect(cells(ingressType, o)).toEqual(["web", "nginx", "a.example.com,b.example.com,c.example.com + 2 more...", "1.2.3.4,lb.example.com", "80, 443", "60m"]);
    expect(cells(ingressType, ingress({ defaultBackend: backend })).slice(1, 5)).toEqual(["<none>", "*", "", "80"]);
  });
});

describe("IngressClass", () => {
  const ic = (spec: Record<string, unknown>) => ({ metadata: { name: "nginx", creationTimestamp: "2024-06-01T11:00:00Z" }, spec });

  test("parameters scope defaults to Cluster; columns", () => {
    const { obj, causes } = admitCreate(ingressClassType, ic({ controller: "k8s.io/ingress-nginx", parameters: { apiGroup: "k8s.example.com", kind: "IngressParameters", name: "p" } }));
    expect(causes).toEqual([]);
    expect((obj.spec as { parameters: unknown }).parameters).toEqual({ apiGroup: "k8s.example.com", kind: "IngressParameters", name: "p", scope: "Cluster" });
    expect(cells(ingressClassType, obj)).toEqual(["nginx", "k8s.io/ingress-nginx", "IngressParameters.k8s.example.com/p", "60m"]);
  });

  test("controller must be a domain-prefixed path and is immutable", () => {
    expect(describeCauses(admitCreate(ingressClassType, ic({ controller: "nginx" })).causes)).toEqual([
      'spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")',
    ]);
    const old = admitCreate(ingressClassType, ic({ controller: "k8s.io/a" })).obj;
    expect(describeCauses(admitUpdate(ingressClassType, ic({ controller: "k8s.io/b" }), old).causes)).toEqual([
      'spec.controller: Invalid value: "k8s.io/b": field is immutable',
    ]);
  });
});

describe("NetworkPolicy", () => {
  const np = (spec: Record<string, unknown>) => ({ metadata: { name: "deny", namespace: "default", creationTimestamp: "2024-06-01T11:00:00Z" }, spec });

  test("defaults: podSelector {}, policyTypes, port protocol", () => {
    const { obj, causes } = admitCreate(networkPolicyType, np({ egress: [{ ports: [{ port: 53 }] }] }));
    expect(causes).toEqual([]);
    expect(obj.spec).toEqual({ egress: [{ ports: [{ port: 53, protocol: "TCP" }] }], podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    expect((admitCreate(networkPolicyType, np({})).obj.spec as Record<string, unknown>).policyTypes).toEqual(["Ingress"]);
  });

  test("validation", () => {
    const body = np({ ingress: [{ from: [{}, { ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} }], ports: [{ port: 80, endPort: 70 }] }], policyTypes: ["Both"] });
    expect(describeCauses(admitCreate(networkPolicyType, body).causes)).toEqual([
      "spec.ingress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port`",
      "spec.ingress[0].from[0]: Required value: must specify a peer",
      "spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer",
      'spec.policyTypes[0]: Unsupported value: "Both": supported values: "Ingress", "Egress"',
    ]);
  });

  test("NAME POD-SELECTOR AGE", () => {
    expect(cells(networkPolicyType, admitCreate(networkPolicyType, np({})).obj)).toEqual(["deny", "<none>", "60m"]);
    expect(cells(networkPolicyType, np({ podSelector: { matchLabels: { app: "web" } } }))).toEqual(["deny", "app=web", "60m"]);
  });
});
