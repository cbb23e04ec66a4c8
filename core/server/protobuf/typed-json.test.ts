/**
 * @module Presence flags checked against Go itself for kinds kubectl never
 * sends as protobuf: the Go JSON that `kubectl set image --local -o json`
 * printed for each typed object (testdata/typed-manifests.ts) is encoded to
 * protobuf field by field and must decode back byte for byte.
 */

import { describe, expect, test } from "bun:test";
import { decodeKubernetesProtobuf, supportedMessageFor } from "./index.ts";
import { encodeObject } from "./testdata/json-to-proto.ts";
import fixtureDoc from "./testdata/kubectl-fixtures.json";
import { envelope } from "./testdata/proto-writer.ts";

const samples = (fixtureDoc as unknown as { typedJson: { name: string; object: Record<string, unknown> }[] }).typedJson;

describe("Go JSON of typed objects survives a protobuf round trip", () => {
  test("samples were captured", () => {
    expect(samples.map((s) => s.name)).toEqual([
      "pod",
      "deployment",
      "statefulset",
      "daemonset",
      "replicaset",
      "replicationcontroller",
      "job",
      "cronjob",
    ]);
  });

  for (const { name, object } of samples) {
    test(name, () => {
      const { kind, apiVersion, ...body } = object as { kind: string; apiVersion: string };
      const message = supportedMessageFor(apiVersion, kind);
      expect(message).toBeDefined();
      const unknown: string[] = [];
      const raw = encodeObject(body, message as string, "", unknown);
      expect(unknown).toEqual([]);
      const decoded = decodeKubernetesProtobuf(envelope(apiVersion, kind, raw));
      expect(JSON.parse(JSON.stringify(decoded))).toStrictEqual(object);
      expect(JSON.stringify(decoded)).toBe(JSON.stringify(object));
    });
  }
});
