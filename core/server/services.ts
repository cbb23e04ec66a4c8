/**
 * @module The default schema-driven services of the API server: unknown-field
 * detection and pruning, managedFields, the PATCH engines and protobuf body
 * decoding, wired from `core/api` and `core/server/protobuf`.
 */
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  serverSideApply,
  updateManagedFields,
} from "../api/patch/index.ts";
import type { PatchEngine } from "./handlers/context.ts";
import { decodeProtobufBody } from "./protobuf/index.ts";
import { prune } from "./prune.ts";
import type { BodyDecoder } from "./request.ts";
import type { SchemaServices } from "./rest-storage.ts";

export interface Services {
  schema: SchemaServices;
  patch: PatchEngine;
  protobuf: BodyDecoder;
}

export function defaultServices(): Services {
  return {
    schema: {
      prune: (schema, value, unknown) => prune(schema, value, true, unknown),
      updateManagedFields: (a) =>
        updateManagedFields({
          live: a.live,
          updated: a.updated,
          schema: a.schema,
          manager: a.manager,
          operation: "Update",
          apiVersion: a.apiVersion,
          now: a.now,
          ...(a.subresource ? { subresource: a.subresource } : {}),
        }),
    },
    patch: {
      json: applyJsonPatch,
      merge: applyMergePatch,
      strategic: applyStrategicMergePatch,
      apply: (a) => serverSideApply({ ...a }),
    },
    protobuf: (bytes, type) => decodeProtobufBody(bytes, type),
  };
}
