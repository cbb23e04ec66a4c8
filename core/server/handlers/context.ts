/**
 * @module What every REST handler gets: the resolved type, the parsed path
 * and query, the request, and the server's dependencies.
 */
import type { KubeObject, ManagedFieldsEntry } from "../../api/meta.ts";
import type { ResourceType, TypeRegistry } from "../../api/registry.ts";
import type { ServerSideApplyArgs } from "../../api/patch/index.ts";
import type { Schema } from "../../api/schema.ts";
import type { Store } from "../../store/types.ts";
import type { BodyDecoder, ResourcePath } from "../request.ts";
import type { RestStorage } from "../rest-storage.ts";

/** The PATCH engines (core/api/patch). */
export interface PatchEngine {
  json(doc: unknown, patch: unknown): unknown;
  merge(doc: unknown, patch: unknown): unknown;
  strategic(doc: unknown, patch: unknown, schema: Schema | undefined): unknown;
  apply(args: ServerSideApplyArgs): { object: KubeObject; managedFields: ManagedFieldsEntry[] };
}

export interface ServerDeps {
  registry: TypeRegistry;
  store: Store;
  storage: RestStorage;
  patch: PatchEngine;
  /** Decodes `application/vnd.kubernetes.protobuf` bodies; absent = 415. */
  protobuf?: BodyDecoder;
}

export interface HandlerContext {
  deps: ServerDeps;
  type: ResourceType;
  path: ResourcePath;
  req: Request;
  query: URLSearchParams;
  /** The namespace from the path ("" for cluster-scoped types or all-namespace requests). */
  namespace: string;
  /** What the runtime passed to `fetch` beside the request (Bun: the server, which upgrades WebSockets). */
  env?: unknown;
}
