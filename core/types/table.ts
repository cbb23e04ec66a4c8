/**
 * @module Helpers for `kubectl get` columns, matching the formatting of
 * kubernetes/kubernetes `pkg/printers/internalversion/printers.go`
 * (label maps, label selectors, container lists, the Name and Age columns).
 */
import type { TableColumn } from "../api/registry.ts";
import type { KubeObject } from "../api/meta.ts";
import { timeSince } from "./duration.ts";
import { CREATION_TIMESTAMP_DESCRIPTION, NAME_DESCRIPTION } from "./meta-schemas.ts";
import { asArr, asObj, asStr, objsAt, type JsonObject } from "./object-access.ts";

type Cell = ReturnType<TableColumn["cell"]>;

/** A column definition; `priority` 1 shows only with `-o wide`. */
export function column(
  name: string,
  type: TableColumn["type"],
  description: string,
  cell: (obj: KubeObject, now: number) => Cell,
  priority = 0,
): TableColumn {
  return { name, type, format: "", description, priority, cell };
}

/** The Name column every kind starts with. */
export function nameColumn(priority = 0): TableColumn {
  return { name: "Name", type: "string", format: "name", description: NAME_DESCRIPTION, priority, cell: (o) => o.metadata.name ?? "" };
}

/** The Age column: HumanDuration since creationTimestamp. */
export function ageColumn(): TableColumn {
  return column("Age", "string", CREATION_TIMESTAMP_DESCRIPTION, (o, now) => timeSince(o.metadata.creationTimestamp, now));
}

/** labels.FormatLabels: `a=b,c=d` sorted by key, `<none>` when empty. */
export function formatLabels(m: unknown): string {
  const o = asObj(m);
  if (!o) return "<none>";
  const keys = Object.keys(o).sort();
  if (keys.length === 0) return "<none>";
  return keys.map((k) => `${k}=${String(o[k])}`).join(",");
}

/**
 * LabelSelectorAsSelector(sel).String(): requirements sorted by key,
 * `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`. Returns undefined for an
 * invalid selector, "" for nil or empty.
 */
export function labelSelectorString(sel: unknown): string | undefined {
  const s = asObj(sel);
  if (!s) return "";
  const reqs: { key: string; text: string }[] = [];
  const matchLabels = asObj(s.matchLabels) ?? {};
  for (const [k, v] of Object.entries(matchLabels)) reqs.push({ key: k, text: `${k}=${String(v)}` });
  for (const e of asArr(s.matchExpressions)) {
    const expr = asObj(e);
    const key = asStr(expr?.key);
    const op = asStr(expr?.operator);
    if (!expr || key === undefined || op === undefined) return undefined;
    const values = asArr(expr.values).map(String);
    const sorted = [...new Set(values)].sort();
    switch (op) {
      case "In":
        if (values.length === 0) return undefined;
        reqs.push({ key, text: `${key} in (${sorted.join(",")})` });
        break;
      case "NotIn":
        if (values.length === 0) return undefined;
        reqs.push({ key, text: `${key} notin (${sorted.join(",")})` });
        break;
      case "Exists":
        if (values.length > 0) return undefined;
        reqs.push({ key, text: key });
        break;
      case "DoesNotExist":
        if (values.length > 0) return undefined;
        reqs.push({ key, text: `!${key}` });
        break;
      default:
        return undefined;
    }
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(",");
}

/** metav1.FormatLabelSelector: `<none>` for empty, `<error>` for invalid. */
export function formatLabelSelector(sel: unknown): string {
  const s = labelSelectorString(sel);
  if (s === undefined) return "<error>";
  return s === "" ? "<none>" : s;
}

/** layoutContainerCells: comma-joined names and images. */
export function containerCells(containers: JsonObject[]): { names: string; images: string } {
  return {
    names: containers.map((c) => asStr(c.name) ?? "").join(","),
    images: containers.map((c) => asStr(c.image) ?? "").join(","),
  };
}

/** Containers of `spec.template.spec` for workload kinds. */
export function templateContainers(o: KubeObject): JsonObject[] {
  return objsAt(o, "spec", "template", "spec", "containers");
}

/** Standard CONTAINERS / IMAGES wide columns over a pod template. */
export function templateContainerColumns(): TableColumn[] {
  return [
    column("Containers", "string", "Names of each container in the template.", (o) => containerCells(templateContainers(o)).names, 1),
    column("Images", "string", "Images referenced by each container in the template.", (o) => containerCells(templateContainers(o)).images, 1),
  ];
}

/** The CREATED AT column (Roles, ClusterRoles, LimitRanges): `creationTimestamp.UTC().Format(time.RFC3339)`. */
export function createdAtColumn(): TableColumn {
  return {
    name: "Created At",
    type: "date",
    format: "",
    description: CREATION_TIMESTAMP_DESCRIPTION,
    priority: 0,
    cell: (o) => rfc3339(o.metadata.creationTimestamp),
  };
}

/** Go's `Time.UTC().Format(time.RFC3339)`; the zero time for a missing or unparsable timestamp. */
export function rfc3339(ts: unknown): string {
  const t = typeof ts === "string" ? Date.parse(ts) : Number.NaN;
  if (Number.isNaN(t)) return "0001-01-01T00:00:00Z";
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** intstr.IntOrString.String(): the number in decimal or the string as is. */
export function intOrStringText(v: unknown): string {
  return typeof v === "number" ? String(v) : typeof v === "string" ? v : "";
}

/** `a,b,c + N more...` over the first `max` items (printers' listWithMoreString). `<unset>` when empty. */
export function listWithMore(items: string[], max: number): string {
  if (items.length > max) return `${items.slice(0, max).join(",")} + ${items.length - max} more...`;
  return items.length === 0 ? "<unset>" : items.join(",");
}
