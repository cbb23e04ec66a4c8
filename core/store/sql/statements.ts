/**
 * @module Prepared statements of the SQL store. The schema lives in
 * `../schema.ts` (drizzle); these statements are its hot paths, prepared once
 * per connection.
 */
import { OP_DELETED } from "../schema.ts";
import type { SqlConnection, SqlStatement } from "./driver.ts";

export interface LiveRow {
  rev: number;
  sel: string;
  data: string;
}

export interface KeyRow {
  rev: number;
  ns: string;
  name: string;
  sel: string;
  data?: string;
}

export interface LogRow {
  rev: number;
  op: number;
  ns: string;
  name: string;
  sel: string;
  data: string;
  psel: string | null;
}

export interface ListQuery {
  namespaced: boolean;
  after: boolean;
  withData: boolean;
  /** Serve as of a past revision (from the log) rather than from `current`. */
  snapshot: boolean;
}

export class Statements {
  readonly getLive: SqlStatement<LiveRow>;
  readonly insertLog: SqlStatement<never>;
  readonly upsertCurrent: SqlStatement<never>;
  readonly deleteCurrent: SqlStatement<never>;
  readonly setMeta: SqlStatement<never>;
  readonly getMeta: SqlStatement<{ value: number }>;
  readonly dataAt: SqlStatement<{ data: string }>;
  readonly replay: SqlStatement<LogRow>;
  readonly compactSuperseded: SqlStatement<never>;
  readonly compactTombstones: SqlStatement<never>;
  readonly lastWritePerResource: SqlStatement<{ resource: string; rev: number }>;
  readonly #lists = new Map<string, SqlStatement<KeyRow>>();
  readonly #counts = new Map<string, SqlStatement<{ n: number }>>();

  constructor(private readonly conn: SqlConnection) {
    this.getLive = conn.prepare(
      "SELECT l.rev AS rev, l.sel AS sel, l.data AS data FROM current c JOIN log l ON l.rev = c.rev WHERE c.resource = ? AND c.ns = ? AND c.name = ?",
    );
    this.insertLog = conn.prepare(
      "INSERT INTO log (rev, resource, ns, name, op, prev_rev, sel, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.upsertCurrent = conn.prepare(
      "INSERT INTO current (resource, ns, name, rev) VALUES (?, ?, ?, ?) ON CONFLICT (resource, ns, name) DO UPDATE SET rev = excluded.rev",
    );
    this.deleteCurrent = conn.prepare("DELETE FROM current WHERE resource = ? AND ns = ? AND name = ?");
    this.setMeta = conn.prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    this.getMeta = conn.prepare("SELECT value FROM meta WHERE key = ?");
    this.dataAt = conn.prepare("SELECT data FROM log WHERE rev = ?");
    this.replay = conn.prepare(
      "SELECT l.rev AS rev, l.op AS op, l.ns AS ns, l.name AS name, l.sel AS sel, l.data AS data, p.sel AS psel " +
        "FROM log l LEFT JOIN log p ON p.rev = l.prev_rev WHERE l.resource = ? AND l.rev > ? ORDER BY l.rev LIMIT ?",
    );
    // A row is superseded once a later row of the same key exists; deleting the
    // prev_rev of every row in (from, to] removes exactly the rows superseded at or before `to`.
    this.compactSuperseded = conn.prepare(
      "DELETE FROM log WHERE rev IN (SELECT prev_rev FROM log WHERE rev > ? AND rev <= ? AND prev_rev > 0)",
    );
    this.compactTombstones = conn.prepare(`DELETE FROM log WHERE rev > ? AND rev <= ? AND op = ${OP_DELETED}`);
    this.lastWritePerResource = conn.prepare("SELECT resource, max(rev) AS rev FROM log GROUP BY resource");
  }

  /**
   * A page of keys in (ns, name) order. Parameters, in order: resource,
   * [ns], [afterNs, afterName], [revision, revision], limit.
   */
  list(q: ListQuery): SqlStatement<KeyRow> {
    const id = `${+q.namespaced}${+q.after}${+q.withData}${+q.snapshot}`;
    let st = this.#lists.get(id);
    if (st) return st;
    const cols = `l.rev AS rev, l.ns AS ns, l.name AS name, l.sel AS sel${q.withData ? ", l.data AS data" : ""}`;
    let sql: string;
    if (!q.snapshot) {
      sql = `SELECT ${cols} FROM current c JOIN log l ON l.rev = c.rev WHERE c.resource = ?`;
      if (q.namespaced) sql += " AND c.ns = ?";
      if (q.after) sql += " AND (c.ns, c.name) > (?, ?)";
      sql += " ORDER BY c.ns, c.name LIMIT ?";
    } else {
      sql = `SELECT ${cols} FROM log l WHERE l.resource = ?`;
      if (q.namespaced) sql += " AND l.ns = ?";
      if (q.after) sql += " AND (l.ns, l.name) > (?, ?)";
      sql +=
        " AND l.rev <= ? AND NOT EXISTS (SELECT 1 FROM log s WHERE s.resource = l.resource AND s.ns = l.ns AND s.name = l.name AND s.rev > l.rev AND s.rev <= ?)" +
        ` AND l.op != ${OP_DELETED} ORDER BY l.ns, l.name LIMIT ?`;
    }
    st = this.conn.prepare<KeyRow>(sql);
    this.#lists.set(id, st);
    return st;
  }

  /** Counts live keys after a position. Parameters: resource, [ns], afterNs, afterName. */
  countAfter(namespaced: boolean): SqlStatement<{ n: number }> {
    const id = String(+namespaced);
    let st = this.#counts.get(id);
    if (st) return st;
    st = this.conn.prepare<{ n: number }>(
      `SELECT count(*) AS n FROM current WHERE resource = ?${namespaced ? " AND ns = ?" : ""} AND (ns, name) > (?, ?)`,
    );
    this.#counts.set(id, st);
    return st;
  }
}
