/**
 * @module The store's tables (drizzle-orm). See README.md beside this file for the design.
 * Migrations are generated from this file with `npm run db:generate` and
 * committed under `migrations/`; the store applies them at open.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Event kinds recorded in the log. */
export const OP_ADDED = 1;
export const OP_MODIFIED = 2;
export const OP_DELETED = 3;

/**
 * The revision log: one row per write, keyed by the global revision.
 * `data` is the object's JSON as of that revision (for a delete: its final state).
 * `prev_rev` is the row this write superseded (0 for a create); compaction
 * deletes superseded rows by following it.
 * `sel` is `{"l":labels,"f":selectableFields}` so lists and watches filter without parsing `data`.
 */
export const log = sqliteTable(
  "log",
  {
    rev: integer("rev").primaryKey(),
    resource: text("resource").notNull(),
    ns: text("ns").notNull(),
    name: text("name").notNull(),
    op: integer("op").notNull(),
    prevRev: integer("prev_rev").notNull(),
    sel: text("sel").notNull(),
    data: text("data").notNull(),
  },
  (t) => [index("log_resource_rev").on(t.resource, t.rev)],
);

/**
 * The live objects: a pointer from each key to its latest log row. Created
 * `WITHOUT ROWID` (hand-edited in the migration; drizzle has no option for it),
 * so the key order is the table order and a list scans one B-tree.
 */
export const current = sqliteTable(
  "current",
  {
    resource: text("resource").notNull(),
    ns: text("ns").notNull(),
    name: text("name").notNull(),
    rev: integer("rev").notNull(),
  },
  (t) => [primaryKey({ columns: [t.resource, t.ns, t.name] })],
);

/** Counters that must survive restarts: `revision` (last committed) and `compacted`. */
export const meta = sqliteTable("meta", {
  key: text("key").primaryKey(),
  value: integer("value").notNull(),
});
