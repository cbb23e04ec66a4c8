/**
 * @module Table output (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`),
 * as `kubectl get` asks for it: the type's columns, one row per object, and
 * the object itself as PartialObjectMetadata (default), in full, or not at all.
 */
import type { KubeObject } from "../api/meta.ts";
import type { ResourceType, TableColumn } from "../api/registry.ts";

export type IncludeObject = "None" | "Metadata" | "Object";

const NAME: TableColumn = { name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0, cell: (o) => o.metadata.name };
const AGE: TableColumn = {
  name: "Created At",
  type: "date",
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
  priority: 0,
  cell: (o) => o.metadata.creationTimestamp,
};

export function columnsOf(type: ResourceType): TableColumn[] {
  return type.columns.length > 0 ? type.columns : [NAME, AGE];
}

export function columnDefinitions(type: ResourceType): object[] {
  return columnsOf(type).map((c) => ({
    name: c.name,
    type: c.type,
    format: c.format ?? "",
    description: c.description ?? "",
    priority: c.priority ?? 0,
  }));
}

export function partialObjectMetadata(o: KubeObject): object {
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
}

export function tableRow(type: ResourceType, o: KubeObject, include: IncludeObject, now: number): object {
  const cells = columnsOf(type).map((c) => {
    const v = c.cell(o, now);
    return v === undefined || v === null ? "<none>" : v;
  });
  if (include === "None") return { cells };
  return { cells, object: include === "Object" ? o : partialObjectMetadata(o) };
}

export function table(
  type: ResourceType,
  objects: KubeObject[],
  opts: { include: IncludeObject; resourceVersion: string; continue?: string; remainingItemCount?: number; withColumns?: boolean },
): object {
  const now = Date.now();
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: {
      resourceVersion: opts.resourceVersion,
      ...(opts.continue ? { continue: opts.continue } : {}),
      ...(opts.remainingItemCount !== undefined ? { remainingItemCount: opts.remainingItemCount } : {}),
    },
    ...(opts.withColumns === false ? { columnDefinitions: null } : { columnDefinitions: columnDefinitions(type) }),
    rows: objects.map((o) => tableRow(type, o, opts.include, now)),
  };
}

export function includeObjectParam(v: string | null): IncludeObject {
  return v === "None" || v === "Object" ? v : "Metadata";
}
