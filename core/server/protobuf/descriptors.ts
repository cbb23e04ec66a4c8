/**
 * @module Message descriptors and the compact notation the tables use.
 *
 * A table maps a message name (`core.v1.PodSpec`) to a comma-separated list of
 * fields in Go struct order; each field is `<number> <jsonName> <type><suffixes>`:
 *
 * - type: a scalar (`string`, `bool`, `int32`, `int64`, `uint32`, `uint64`,
 *   `double`, `float`, `bytes`) or a message name (tables or `special.ts`).
 * - `[]` repeated; `{}` a `map<string, type>` (entries are key=1, value=2).
 * - presence, mirroring the Go field and its `json:` tag:
 *   - (none) non-pointer with `omitempty`: a zero scalar, an empty list or map
 *     is omitted; a struct is always written (Go cannot omit structs);
 *   - `!`  no `omitempty`: always written (zero value, or `null` for a nil list/map);
 *   - `?`  pointer with `omitempty`: written iff present on the wire;
 *   - `?!` pointer without `omitempty`: `null` when absent;
 *   - `^`  embedded with `json:",inline"`: its fields are merged into the parent.
 */

/** Descriptor tables: message name to field list (see module docs). */
export type MessageTable = Readonly<Record<string, string>>;

export type ScalarType = "string" | "bool" | "int32" | "int64" | "uint32" | "uint64" | "double" | "float" | "bytes";

const SCALARS: ReadonlySet<string> = new Set<ScalarType>([
  "string",
  "bool",
  "int32",
  "int64",
  "uint32",
  "uint64",
  "double",
  "float",
  "bytes",
]);

export type Presence = "omitempty" | "always" | "pointer" | "pointerNull" | "inline";

/** One field of a message. */
export interface FieldDescriptor {
  readonly number: number;
  readonly json: string;
  /** A ScalarType or a message name. */
  readonly type: string;
  readonly scalar: boolean;
  readonly repeated: boolean;
  readonly map: boolean;
  readonly presence: Presence;
}

/** A message: fields in Go struct order plus an index by field number. */
export interface MessageDescriptor {
  readonly name: string;
  readonly fields: readonly FieldDescriptor[];
  readonly byNumber: ReadonlyMap<number, FieldDescriptor>;
}

const FIELD_RE = /^(\d+) ([A-Za-z_][A-Za-z0-9_]*) ([A-Za-z][A-Za-z0-9_.]*)(\[\]|\{\})?(\?!|\?|!|\^)?$/;

const PRESENCE: Readonly<Record<string, Presence>> = {
  "": "omitempty",
  "!": "always",
  "?": "pointer",
  "?!": "pointerNull",
  "^": "inline",
};

export function isScalar(type: string): type is ScalarType {
  return SCALARS.has(type);
}

/** Parses one table entry. Throws a plain Error: a bad table is a programming error. */
export function parseMessage(name: string, spec: string): MessageDescriptor {
  const fields: FieldDescriptor[] = [];
  const byNumber = new Map<number, FieldDescriptor>();
  for (const raw of spec.split(",")) {
    const text = raw.trim();
    if (!text) continue;
    const m = FIELD_RE.exec(text);
    if (!m) throw new Error(`protobuf table ${name}: cannot parse field "${text}"`);
    const [, num, json, type, shape, mark] = m;
    const presence = PRESENCE[mark ?? ""];
    if (!num || !json || !type || !presence) throw new Error(`protobuf table ${name}: bad field "${text}"`);
    const field: FieldDescriptor = {
      number: Number(num),
      json,
      type,
      scalar: isScalar(type),
      repeated: shape === "[]",
      map: shape === "{}",
      presence,
    };
    if (field.presence === "inline" && (field.scalar || field.repeated || field.map)) {
      throw new Error(`protobuf table ${name}: only a single message can be inlined ("${text}")`);
    }
    if (byNumber.has(field.number)) throw new Error(`protobuf table ${name}: duplicate field ${field.number}`);
    byNumber.set(field.number, field);
    fields.push(field);
  }
  return { name, fields, byNumber };
}
