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
  /** Absent for keys-only queries. */
  sel?: string;
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
}

export class Statements {
  readonly liveAt: SqlStatement<LiveRow>;
  readonly insertLog: SqlStatement<never>;
  readonly upsertCurrent: SqlStatement<never>;
  readonly deleteCurrent: SqlStatement<never>;
  readonly setMeta: SqlStatement<never>;
  readonly getMeta: SqlStatement<{ value: number }>;
  readonly dataAt: SqlStatement<{ data: string }>;
  readonly exists: SqlStatement<{ rev: number }>;
  readonly liveKeys: SqlStatement<{ rev: number; ns: string; name: string; sel: string }>;
  readonly rowAt: SqlStatement<{ rev: number; ns: string; name: string; sel: string; data: string }>;
  /** Per key written after a revision: its first later row's prev_rev (the version as of that revision; 0 = absent). */
  readonly changesAfter: SqlStatement<{ ns: string; name: string; first: number; prev: number }>;
  readonly #all: SqlStatement<unknown>[] = [];
  readonly replay: SqlStatement<LogRow>;
  readonly compactSuperseded: SqlStatement<never>;
  readonly compactTombstones: SqlStatement<never>;
  readonly lastWritePerResource: SqlStatement<{ resource: string; rev: number }>;
  readonly #lists = new Map<string, SqlStatement<KeyRow>>();
  readonly #counts = new Map<string, SqlStatement<{ n: number }>>();

  constructor(private readonly conn: SqlConnection) {
    // Point reads are two lookups, not a join: SQLite spends ~10 µs setting up the
    // join per call against ~1 µs per primary-key lookup (measured with bun:sqlite).
    this.liveAt = conn.prepare("SELECT rev, sel, data FROM log WHERE rev = ?");
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
    this.exists = conn.prepare("SELECT rev FROM current WHERE resource = ? AND ns = ? AND name = ?");
    this.rowAt = conn.prepare("SELECT rev, ns, name, sel, data FROM log WHERE rev = ?");
    // SQLite takes bare columns from the row that min() picked.
    this.changesAfter = conn.prepare(
      "SELECT ns, name, min(rev) AS first, prev_rev AS prev FROM log WHERE resource = ? AND rev > ? GROUP BY ns, name",
    );
    this.liveKeys = conn.prepare(
      "SELECT c.rev AS rev, c.ns AS ns, c.name AS name, l.sel AS sel FROM current c JOIN log l ON l.rev = c.rev WHERE c.resource = ?",
    );
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
   * A page of live keys in (ns, name) order. Parameters, in order: resource,
   * [ns], [afterNs, afterName], limit.
   */
  list(q: ListQuery): SqlStatement<KeyRow> {
    const id = `${+q.namespaced}${+q.after}${+q.withData}`;
    let st = this.#lists.get(id);
    if (st) return st;
    const cols = `l.rev AS rev, l.ns AS ns, l.name AS name, l.sel AS sel${q.withData ? ", l.data AS data" : ""}`;
    let sql: string;
    sql = `SELECT ${cols} FROM current c JOIN log l ON l.rev = c.rev WHERE c.resource = ?`;
    if (q.namespaced) sql += " AND c.ns = ?";
    if (q.after) sql += " AND (c.ns, c.name) > (?, ?)";
    sql += " ORDER BY c.ns, c.name LIMIT ?";
    st = this.conn.prepare<KeyRow>(sql);
    this.#lists.set(id, st);
    this.#all.push(st);
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
    this.#all.push(st);
    return st;
  }

  /** The live row of a key: its revision in `current`, then that log row. */
  getLive(resource: string, ns: string, name: string): LiveRow | undefined {
    const cur = this.exists.get(resource, ns, name);
    return cur ? this.liveAt.get(cur.rev) : undefined;
  }

  /** Releases every statement (so closing the connection checkpoints and removes the WAL). */
  finalize(): void {
    const fixed = [this.liveAt, this.insertLog, this.upsertCurrent, this.deleteCurrent, this.setMeta, this.getMeta, this.dataAt, this.exists, this.liveKeys, this.rowAt, this.changesAfter, this.replay, this.compactSuperseded, this.compactTombstones, this.lastWritePerResource];
    for (const st of [...fixed, ...this.#all]) st.finalize();
  }
}
