/** @module Tests for pruning and for the unknown fields it reports in the same pass. */
import { describe, expect, test } from "bun:test";
import type { Schema } from "../api/schema.ts";
import { findUnknownFields } from "../api/unknown-fields.ts";
import { deploymentType } from "../types/apps-v1/index.ts";
import { podType } from "../types/core-v1/pod.ts";
import { deployment } from "../../test/fixtures/deployment.ts";
import { prune } from "./prune.ts";

const container: Schema = { type: "object", properties: { name: { type: "string" }, image: { type: "string" } } };
const schema: Schema = {
  type: "object",
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    spec: {
      type: "object",
      properties: {
        containers: { type: "array", items: container },
        labels: { type: "object", additionalProperties: { type: "string" } },
        raw: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        via: { allOf: [{ type: "object", properties: { kept: { type: "string" } } }] },
      },
    },
  },
};

describe("prune", () => {
  test("drops unknown fields at every level and keeps maps, preserved subtrees and allOf members", () => {
    const input = {
      apiVersion: "v1",
      kind: "X",
      metadata: { name: "a", anything: 1 },
      bogus: true,
      spec: {
        containers: [{ name: "c", image: "i", imagee: "typo" }],
        labels: { a: "b" },
        raw: { deep: { x: 1 } },
        via: { kept: "y", dropped: "z" },
        unknown: 1,
      },
    };
    expect(prune(schema, input)).toEqual({
      apiVersion: "v1",
      kind: "X",
      metadata: { name: "a", anything: 1 },
      spec: { containers: [{ name: "c", image: "i" }], labels: { a: "b" }, raw: { deep: { x: 1 } }, via: { kept: "y" } },
    });
  });

  test("does not change its input", () => {
    const input = { spec: { unknown: 1 } };
    prune(schema, input);
    expect(input).toEqual({ spec: { unknown: 1 } });
  });
});

describe("prune reporting unknown fields", () => {
  const DEPLOYMENT = deploymentType.schema as Schema;
  const POD = podType.schema as Schema;
  const crd: Schema = {
    type: "object",
    properties: {
      free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      partly: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { n: { type: "object", properties: {} } } },
      res: { type: "object", "x-kubernetes-embedded-resource": true, properties: { spec: { type: "object", properties: {} } } },
      // Pruning and strict validation resolve these differently (see prune's doc comment).
      viaAllOf: { allOf: [{ type: "object", "x-kubernetes-embedded-resource": true, properties: { spec: { type: "object", properties: {} } } }] },
      shadowed: {
        type: "object",
        properties: { b: { type: "object", properties: { own: { type: "string" } } } },
        allOf: [{ type: "object", properties: { b: { type: "object", properties: { inherited: { type: "string" } } } } }],
      },
      ios: { "x-kubernetes-int-or-string": true },
      m: { type: "object", additionalProperties: { type: "object", properties: { a: { type: "string" } } } },
      metadata: { type: "object", properties: { name: { type: "string" } } },
    },
  };
  const fixtures: Array<[string, Schema, unknown]> = [
    ["valid deployment", DEPLOYMENT, deployment()],
    ["typos", DEPLOYMENT, deployment({ spec: { foo: 1 }, container: { imagee: "x" } })],
    ["metadata and top level", DEPLOYMENT, { ...deployment({ meta: { labelz: {} } }), extra: true }],
    ["managedFields", DEPLOYMENT, deployment({ meta: { managedFields: [{ manager: "m", fieldsV1: { "f:spec": { "f:replicas": {} } } }] } })],
    ["int-or-string object", DEPLOYMENT, deployment({ spec: { strategy: { rollingUpdate: { maxSurge: { x: 1 } } } } })],
    [
      "pod volumes",
      POD,
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p" },
        spec: {
          containers: [{ name: "c", image: "x", bogus: [1] }],
          volumes: [
            { name: "a", rbd: { monitors: ["m"], image: "i", whatever: 1 } },
            { name: "b", configMap: { name: "cm", itemz: [] } },
          ],
        },
        status: { nope: true },
      },
    ],
    [
      "crd",
      crd,
      {
        apiVersion: "x/v1",
        kind: "X",
        metadata: { name: "x", labels: { a: "b" } },
        free: { anything: { deep: 1 } },
        partly: { other: 1, n: { bad: 1 } },
        res: { apiVersion: "v1", kind: "X", metadata: { name: "x" }, spec: { nope: 1 }, status: {} },
        viaAllOf: { apiVersion: "v1", kind: "Y", metadata: {}, spec: { nope: 2 }, other: 3 },
        shadowed: { b: { own: "1", inherited: "2", neither: "3" } },
        ios: { x: 1 },
        m: { k1: { a: "x" }, k2: { b: "y" } },
        top: 1,
      },
    ],
    ["root array", { type: "array", items: container }, [{ name: "a", imagee: "x" }, { image: "y", x: 1 }]],
  ];

  for (const [name, s, value] of fixtures) {
    test(`${name}: the same paths as findUnknownFields, the same pruned value`, () => {
      const removed: string[] = [];
      const pruned = prune(s, value, true, removed);
      expect(removed).toEqual(findUnknownFields(s, value));
      expect(pruned).toEqual(prune(s, value) as object);
    });
  }

  test("paths are upstream's strict-decoding paths, in document order", () => {
    const removed: string[] = [];
    prune(DEPLOYMENT, deployment({ spec: { foo: 1 }, container: { imagee: "x" } }), true, removed);
    expect(removed).toEqual(["spec.template.spec.containers[0].imagee", "spec.foo"]);
    const crdRemoved: string[] = [];
    prune(crd, fixtures.find(([n]) => n === "crd")?.[2], true, crdRemoved);
    expect(crdRemoved).toEqual(["partly.n.bad", "res.spec.nope", "res.status", "viaAllOf.spec.nope", "viaAllOf.other", "shadowed.b.inherited", "shadowed.b.neither", "m.k2.b", "top"]);
  });
});
