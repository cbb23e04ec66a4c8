/** @module requestAttributes against upstream's requestinfo_test.go cases (TestGetAPIRequestInfo, TestGetNonAPIRequestInfo, TestFieldSelectorParsing). */
import { describe, expect, test } from "bun:test";
import { requestAttributes } from "./request-attributes.ts";

const at = (method: string, url: string) => requestAttributes(new Request(`http://skiff.local${url}`, { method }));

// method, url, verb, group, version, namespace, resource, subresource, name
type Row = [string, string, string, string, string, string, string, string, string];

const RESOURCE_CASES: Row[] = [
  // resource paths
  ["GET", "/api/v1/namespaces", "list", "", "v1", "", "namespaces", "", ""],
  ["GET", "/api/v1/namespaces/other", "get", "", "v1", "other", "namespaces", "", "other"],
  ["GET", "/api/v1/namespaces/other/pods", "list", "", "v1", "other", "pods", "", ""],
  ["GET", "/api/v1/namespaces/other/pods/foo", "get", "", "v1", "other", "pods", "", "foo"],
  ["HEAD", "/api/v1/namespaces/other/pods/foo", "get", "", "v1", "other", "pods", "", "foo"],
  ["GET", "/api/v1/pods", "list", "", "v1", "", "pods", "", ""],
  ["HEAD", "/api/v1/pods", "list", "", "v1", "", "pods", "", ""],
  // special verbs
  ["GET", "/api/v1/proxy/namespaces/other/pods/foo", "proxy", "", "v1", "other", "pods", "", "foo"],
  ["GET", "/api/v1/proxy/namespaces/other/pods/foo/subpath/not/a/subresource", "proxy", "", "v1", "other", "pods", "", "foo"],
  ["GET", "/api/v1/watch/pods", "watch", "", "v1", "", "pods", "", ""],
  ["GET", "/api/v1/pods?watch=true", "watch", "", "v1", "", "pods", "", ""],
  ["GET", "/api/v1/pods?watch=false", "list", "", "v1", "", "pods", "", ""],
  ["GET", "/api/v1/watch/namespaces/other/pods", "watch", "", "v1", "other", "pods", "", ""],
  ["GET", "/api/v1/namespaces/other/pods?watch=1", "watch", "", "v1", "other", "pods", "", ""],
  ["GET", "/api/v1/namespaces/other/pods?watch=0", "list", "", "v1", "other", "pods", "", ""],
  // subresource identification
  ["GET", "/api/v1/namespaces/other/pods/foo/status", "get", "", "v1", "other", "pods", "status", "foo"],
  ["GET", "/api/v1/namespaces/other/pods/foo/proxy/subpath", "get", "", "v1", "other", "pods", "proxy", "foo"],
  ["PUT", "/api/v1/namespaces/other/finalize", "update", "", "v1", "other", "namespaces", "finalize", "other"],
  ["PUT", "/api/v1/namespaces/other/status", "update", "", "v1", "other", "namespaces", "status", "other"],
  // verb identification
  ["PATCH", "/api/v1/namespaces/other/pods/foo", "patch", "", "v1", "other", "pods", "", "foo"],
  ["DELETE", "/api/v1/namespaces/other/pods/foo", "delete", "", "v1", "other", "pods", "", "foo"],
  ["POST", "/api/v1/namespaces/other/pods", "create", "", "v1", "other", "pods", "", ""],
  // deletecollection verb identification
  ["DELETE", "/api/v1/nodes", "deletecollection", "", "v1", "", "nodes", "", ""],
  ["DELETE", "/api/v1/namespaces", "deletecollection", "", "v1", "", "namespaces", "", ""],
  ["DELETE", "/api/v1/namespaces/other/pods", "deletecollection", "", "v1", "other", "pods", "", ""],
  ["DELETE", "/apis/extensions/v1/namespaces/other/pods", "deletecollection", "extensions", "v1", "other", "pods", "", ""],
  // api group identification
  ["POST", "/apis/extensions/v1/namespaces/other/pods", "create", "extensions", "v1", "other", "pods", "", ""],
  // api version identification
  ["POST", "/apis/extensions/v1beta3/namespaces/other/pods", "create", "extensions", "v1beta3", "other", "pods", "", ""],
  // Skiff's own paths: subresources kubectl uses
  ["POST", "/api/v1/namespaces/ns/pods/p/exec?command=ls", "create", "", "v1", "ns", "pods", "exec", "p"],
  ["GET", "/api/v1/namespaces/ns/pods/p/log?follow=true", "get", "", "v1", "ns", "pods", "log", "p"],
  ["PATCH", "/apis/apps/v1/namespaces/ns/deployments/d/scale", "patch", "apps", "v1", "ns", "deployments", "scale", "d"],
  ["POST", "/api/v1/namespaces/ns/pods/p/eviction", "create", "", "v1", "ns", "pods", "eviction", "p"],
  ["GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:node", "get", "rbac.authorization.k8s.io", "v1", "", "clusterroles", "", "system:node"],
  ["GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Anode", "get", "rbac.authorization.k8s.io", "v1", "", "clusterroles", "", "system:node"],
  ["OPTIONS", "/api/v1/pods/foo", "", "", "v1", "", "pods", "", "foo"],
];

describe("requestAttributes (upstream TestGetAPIRequestInfo)", () => {
  for (const [method, url, verb, apiGroup, apiVersion, namespace, resource, subresource, name] of RESOURCE_CASES) {
    test(`${method} ${url}`, () => {
      const a = at(method, url);
      expect({ ...a, fieldSelector: undefined, labelSelector: undefined }).toEqual({
        resourceRequest: true,
        path: url.split("?")[0]!.replace("%3A", ":"),
        verb,
        apiGroup,
        apiVersion,
        namespace,
        resource,
        subresource,
        name,
        fieldSelector: undefined,
        labelSelector: undefined,
      });
    });
  }

  const NON_RESOURCE: Record<string, string> = {
    "no resource path": "/",
    "just apiversion": "/api/version/",
    "just prefix, group, version": "/apis/group/version/",
    "bad prefix": "/badprefix/version/resource",
    "missing api group": "/apis/version/resource",
  };
  for (const [what, url] of Object.entries(NON_RESOURCE)) {
    test(`non-resource: ${what}`, () => {
      const a = at("GET", url);
      expect(a.resourceRequest).toBe(false);
      expect(a.verb).toBe("get");
      expect(a.path).toBe(url);
    });
  }
});

describe("resource or not (upstream TestGetNonAPIRequestInfo)", () => {
  const cases: [string, string, boolean][] = [
    ["simple groupless", "/api/version/resource", true],
    ["simple group", "/apis/group/version/resource/name/subresource", true],
    ["more steps", "/api/version/resource/name/subresource", true],
    ["group list", "/apis/batch/v1/job", true],
    ["group get", "/apis/batch/v1/job/foo", true],
    ["group subresource", "/apis/batch/v1/job/foo/scale", true],
    ["bad root", "/not-api/version/resource", false],
    ["group without enough steps", "/apis/extensions/v1beta1", false],
    ["group without enough steps 2", "/apis/extensions/v1beta1/", false],
    ["not enough steps", "/api/version", false],
    ["one step", "/api", false],
    ["zero step", "/", false],
  ];
  for (const [what, url, expected] of cases) test(what, () => expect(at("GET", url).resourceRequest).toBe(expected));

  test("non-resource verbs are the lower-cased method", () => {
    expect(at("POST", "/healthz")).toMatchObject({ resourceRequest: false, verb: "post", path: "/healthz" });
    expect(at("PUT", "/version")).toMatchObject({ resourceRequest: false, verb: "put" });
    expect(at("GET", "/openapi/v3/apis/apps/v1")).toMatchObject({ resourceRequest: false, verb: "get", path: "/openapi/v3/apis/apps/v1" });
  });
});

describe("field selectors (upstream TestFieldSelectorParsing)", () => {
  const cases: [string, string, string, string][] = [
    ["no selector", "/apis/group/version/resource", "", "list"],
    ["metadata.name selector", "/apis/group/version/resource?fieldSelector=metadata.name=name1", "name1", "list"],
    ["metadata.name selector with watch", "/apis/group/version/resource?watch=true&fieldSelector=metadata.name=name1", "name1", "watch"],
    ["random selector", "/apis/group/version/resource?fieldSelector=foo=bar", "", "list"],
    ["invalid selector with metadata.name", "/apis/group/version/resource?fieldSelector=metadata.name=name1,foo", "", "list"],
    ["invalid selector with metadata.name with watch", "/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=true", "", "watch"],
    ["invalid selector with metadata.name with watch false", "/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=false", "", "list"],
    // beyond upstream's table, same rules
    ["== is exact", "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3D%3Ds1", "s1", "list"],
    ["!= is not", "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name!%3Ds1", "", "list"],
    ["with another term", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1,metadata.name%3Dp1", "p1", "list"],
    ["not a path segment name", "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3D..", "", "list"],
    ["bad limit: no name", "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Ds1&limit=x", "", "list"],
    ["bad label selector, watch kept", "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Ds1&labelSelector=a%20in&watch=1", "", "watch"],
  ];
  for (const [what, url, name, verb] of cases) {
    test(what, () => {
      const a = at("GET", url);
      expect(a.name).toBe(name);
      expect(a.verb).toBe(verb);
    });
  }

  test("the parsed field selector is carried for list, watch and deletecollection", () => {
    expect(at("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1&watch=true").fieldSelector).toEqual([{ field: "spec.nodeName", operator: "=", value: "n1" }]);
    expect(at("DELETE", "/api/v1/namespaces/a/pods?fieldSelector=spec.nodeName%3Dn1")).toMatchObject({
      verb: "deletecollection",
      name: "",
      fieldSelector: [{ field: "spec.nodeName", operator: "=", value: "n1" }],
    });
    expect(at("GET", "/api/v1/pods/p1?fieldSelector=spec.nodeName%3Dn1").fieldSelector).toBeUndefined();
    expect(at("GET", "/api/v1/watch/pods?fieldSelector=spec.nodeName%3Dn1")).toMatchObject({
      verb: "watch",
      fieldSelector: [{ field: "spec.nodeName", operator: "=", value: "n1" }],
    });
    expect(at("GET", "/api/v1/pods?labelSelector=app%3Dweb").labelSelector).toEqual([{ key: "app", operator: "=", values: ["web"] }]);
  });
});
