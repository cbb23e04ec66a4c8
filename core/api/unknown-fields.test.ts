/** @module Tests for strict field validation paths and JSON type errors. */
import { describe, expect, test } from "bun:test";
import type { Schema } from "./schema.ts";
import { findUnknownFields, jsonTypeOf, typeErrors } from "./unknown-fields.ts";
import { deploymentType } from "../types/apps-v1/index.ts";
import { podType } from "../types/core-v1/pod.ts";
import { deployment } from "../../test/fixtures/deployment.ts";

const DEPLOYMENT = deploymentType.schema as Schema;
const POD = podType.schema as Schema;


describe("findUnknownFields", () => {
  test("a valid deployment has none", () => {
    expect(findUnknownFields(DEPLOYMENT, deployment())).toEqual([]);
  });

  test("unknown spec field and misspelled container field", () => {
    const d = deployment({ spec: { foo: 1 }, container: { imagee: "x" } });
    expect(findUnknownFields(DEPLOYMENT, d)).toEqual(["spec.template.spec.containers[0].imagee", "spec.foo"]);
  });

  test("unknown metadata and top-level fields", () => {
    const d = { ...deployment({ meta: { labelz: {} } }), extra: true };
    expect(findUnknownFields(DEPLOYMENT, d)).toEqual(["metadata.labelz", "extra"]);
  });

  test("maps accept any key; their values are still checked", () => {
    const schema: Schema = {
      type: "object",
      properties: { m: { type: "object", additionalProperties: { type: "object", properties: { a: { type: "string" } } } } },
    };
    expect(findUnknownFields(schema, { m: { k1: { a: "x" }, k2: { b: "y" } } })).toEqual(["m.k2.b"]);
  });

  test("preserve-unknown-fields and embedded resources", () => {
    const schema: Schema = {
      type: "object",
      properties: {
        free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        partly: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { n: { type: "object", properties: {} } } },
        res: { type: "object", "x-kubernetes-embedded-resource": true, properties: { spec: { type: "object", properties: {} } } },
      },
    };
    const v = {
      free: { anything: { deep: 1 } },
      partly: { other: 1, n: { bad: 1 } },
      res: { apiVersion: "v1", kind: "X", metadata: { name: "x" }, spec: { nope: 1 }, status: {} },
    };
    expect(findUnknownFields(schema, v)).toEqual(["partly.n.bad", "res.spec.nope", "res.status"]);
  });

  test("managedFields fieldsV1 is free-form; int-or-string given an object is not walked", () => {
    const d = deployment({ meta: { managedFields: [{ manager: "m", fieldsV1: { "f:spec": { "f:replicas": {} } } }] } });
    expect(findUnknownFields(DEPLOYMENT, d)).toEqual([]);
    const weird = deployment({ spec: { strategy: { rollingUpdate: { maxSurge: { x: 1 } } } } });
    expect(findUnknownFields(DEPLOYMENT, weird)).toEqual([]);
  });

  test("allOf wrappers are looked through; a path prefix is applied", () => {
    const inner: Schema = { type: "object", properties: { a: { type: "string" } } };
    const schema: Schema = { type: "object", properties: { w: { allOf: [inner], description: "d" } } };
    expect(findUnknownFields(schema, { w: { a: "x", b: 1 } }, "spec")).toEqual(["spec.w.b"]);
  });

  test("a non-root path does not allow apiVersion/kind/metadata", () => {
    const schema: Schema = { type: "object", properties: {} };
    expect(findUnknownFields(schema, { kind: "x" }, "spec")).toEqual(["spec.kind"]);
    expect(findUnknownFields(schema, { kind: "x" })).toEqual([]);
  });

  test("a CRD's partial metadata schema does not reject labels", () => {
    const schema: Schema = { type: "object", properties: { metadata: { type: "object", properties: { name: { type: "string", maxLength: 10 } } } } };
    expect(findUnknownFields(schema, { metadata: { name: "x", labels: { a: "b" } } })).toEqual([]);
  });

  test("empty schema accepts anything", () => {
    expect(findUnknownFields({}, { a: { b: 1 } })).toEqual([]);
  });

  test("pod volumes: legacy sources are opaque, modelled ones are checked", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      spec: {
        containers: [{ name: "c", image: "x" }],
        volumes: [
          { name: "a", rbd: { monitors: ["m"], image: "i", whatever: 1 } },
          { name: "b", configMap: { name: "cm", itemz: [] } },
        ],
      },
    };
    expect(findUnknownFields(POD, pod)).toEqual(["spec.volumes[1].configMap.itemz"]);
  });
});

describe("typeErrors", () => {
  test("strings where integers are expected, objects where lists are (document order)", () => {
    const d = deployment({ spec: { replicas: "3", template: { spec: { containers: { name: "c" } } } } });
    expect(typeErrors(DEPLOYMENT, d)).toEqual([
      {
        reason: "FieldValueTypeInvalid",
        field: "spec.template.spec.containers",
        message: 'Invalid value: "object": spec.template.spec.containers in body must be of type array: "object"',
      },
      {
        reason: "FieldValueTypeInvalid",
        field: "spec.replicas",
        message: 'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
      },
    ]);
  });

  test("int-or-string, quantities and nulls", () => {
    expect(typeErrors(DEPLOYMENT, deployment({ spec: { strategy: { rollingUpdate: { maxSurge: 1.5 } } } })).map((c) => c.field)).toEqual([
      "spec.strategy.rollingUpdate.maxSurge",
    ]);
    expect(typeErrors(DEPLOYMENT, deployment({ container: { resources: { limits: { cpu: 0.5, memory: "1Gi" } } } }))).toEqual([]);
    expect(typeErrors(DEPLOYMENT, deployment({ container: { resources: { limits: { cpu: true } } } })).map((c) => c.field)).toEqual([
      "spec.template.spec.containers[0].resources.limits.cpu",
    ]);
    expect(typeErrors(DEPLOYMENT, deployment({ spec: { replicas: null, paused: null } }))).toEqual([]);
  });

  test("int32 overflow", () => {
    expect(typeErrors(DEPLOYMENT, deployment({ spec: { replicas: 3_000_000_000 } }))).toEqual([
      { reason: "FieldValueInvalid", field: "spec.replicas", message: "Invalid value: 3000000000: must be a 32-bit integer" },
    ]);
  });

  test("jsonTypeOf", () => {
    expect([null, [], 1, 1.5, {}, "s", true].map(jsonTypeOf)).toEqual(["null", "array", "integer", "number", "object", "string", "boolean"]);
  });
});
