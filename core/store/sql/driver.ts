/**
 * @module The SQL driver seam: one tiny synchronous interface that both
 * `bun:sqlite` (Bun) and the `libsql` package (Node, Deno; better-sqlite3 API)
 * implement. The store runs on one connection: SQLite has a single writer and
 * JavaScript a single thread, so synchronous statements never interleave.
 */
import { readMigrationFiles } from "drizzle-orm/migrator";
import { packagePath } from "../../package-root.ts";

export type SqlValue = string | number | bigint | null | Uint8Array;

export interface SqlStatement<Row> {
  run(...params: SqlValue[]): void;
  get(...params: SqlValue[]): Row | undefined;
  all(...params: SqlValue[]): Row[];
  /** Releases the statement; it must not be used afterwards. */
  finalize(): void;
}

export type DriverName = "bun-sqlite" | "libsql";

export interface SqlConnection {
  readonly driver: DriverName;
  exec(sql: string): void;
  prepare<Row = Record<string, unknown>>(sql: string): SqlStatement<Row>;
  close(): void;
}

/**
 * What a crash or power loss may cost:
 * - `full` (default): the WAL is fsynced at every commit. An acknowledged write
 *   survives a process crash and a power loss.
 * - `normal`: the WAL is fsynced only at checkpoints. An acknowledged write
 *   survives a process crash; a power loss may roll back the last commits, but
 *   the database stays consistent.
 */
export type Durability = "full" | "normal";

export interface OpenOptions {
  /** File path, or `:memory:`. */
  path: string;
  /** Defaults to `bun-sqlite` on Bun and `libsql` elsewhere. */
  driver?: DriverName;
  durability?: Durability;
}

/** The driver this runtime should use. */
export function defaultDriver(): DriverName {
  return typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun-sqlite" : "libsql";
}

/** Opens a connection, applies pragmas and migrations. */
export async function openSql(opts: OpenOptions): Promise<SqlConnection> {
  const driver = opts.driver ?? defaultDriver();
  const conn = driver === "bun-sqlite" ? await openBun(opts.path) : await openLibsql(opts.path);
  try {
    configure(conn, opts);
    migrate(conn);
  } catch (e) {
    conn.close();
    throw e;
  }
  return conn;
}

/** WAL written between checkpoints. */
const CHECKPOINT_BYTES = 4 * 1024 * 1024;

function configure(conn: SqlConnection, opts: OpenOptions): void {
  // 16 KiB pages: a typical ~2 KB object shares a page with several others instead
  // of taking a 4 KiB page alone, so a commit writes about half the WAL (and the
  // file is half the size). Only a new database takes it; an existing one keeps
  // its page size (it cannot change in WAL mode).
  conn.exec("PRAGMA page_size = 16384");
  conn.exec("PRAGMA journal_mode = WAL");
  conn.exec(`PRAGMA synchronous = ${opts.durability === "normal" ? "NORMAL" : "FULL"}`);
  conn.exec("PRAGMA busy_timeout = 5000");
  // Checkpoint every 4 MiB of WAL and truncate the WAL back to 16 MiB after each
  // checkpoint, so the WAL cannot grow without bound (the kine/k3s failure mode).
  const pageSize = pragmaNumber(conn, "page_size") ?? 4096;
  conn.exec(`PRAGMA wal_autocheckpoint = ${Math.max(1, Math.round(CHECKPOINT_BYTES / pageSize))}`);
  conn.exec(`PRAGMA journal_size_limit = ${16 * 1024 * 1024}`);
  conn.exec("PRAGMA temp_store = MEMORY");
  conn.exec("PRAGMA cache_size = -32000");
}

function pragmaNumber(conn: SqlConnection, name: string): number | undefined {
  const st = conn.prepare<Record<string, number>>(`PRAGMA ${name}`);
  try {
    return st.get()?.[name];
  } finally {
    st.finalize();
  }
}

const MIGRATIONS_TABLE = "__drizzle_migrations";

/** Applies drizzle-kit's migrations (same bookkeeping table as drizzle's own migrator). */
function migrate(conn: SqlConnection): void {
  const folder = packagePath("core/store/migrations");
  const migrations = readMigrationFiles({ migrationsFolder: folder });
  conn.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, created_at NUMERIC)`);
  const last = conn.prepare<{ created_at: number }>(`SELECT created_at FROM ${MIGRATIONS_TABLE} ORDER BY created_at DESC LIMIT 1`).get();
  const pending = migrations.filter((m) => !last || Number(last.created_at) < m.folderMillis);
  if (pending.length === 0) return;
  conn.exec("BEGIN IMMEDIATE");
  try {
    const record = conn.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (hash, created_at) VALUES (?, ?)`);
    for (const m of pending) {
      for (const stmt of m.sql) if (stmt.trim()) conn.exec(stmt);
      record.run(m.hash, m.folderMillis);
    }
    conn.exec("COMMIT");
  } catch (e) {
    conn.exec("ROLLBACK");
    throw e;
  }
}

interface BunStatement {
  run(...p: SqlValue[]): unknown;
  get(...p: SqlValue[]): unknown;
  all(...p: SqlValue[]): unknown[];
  finalize(): void;
}
interface BunDatabase {
  exec(sql: string): void;
  prepare(sql: string): BunStatement;
  close(): void;
}

async function openBun(path: string): Promise<SqlConnection> {
  const mod = (await import("bun:sqlite" as string)) as { Database: new (p: string, o?: object) => BunDatabase };
  const db = new mod.Database(path, { create: true });
  return {
    driver: "bun-sqlite",
    exec: (sql) => db.exec(sql),
    prepare<Row>(sql: string): SqlStatement<Row> {
      const st = db.prepare(sql);
      return {
        run: (...p) => void st.run(...p),
        get: (...p) => (st.get(...p) ?? undefined) as Row | undefined,
        all: (...p) => st.all(...p) as Row[],
        finalize: () => st.finalize(),
      };
    },
    close: () => db.close(),
  };
}

interface LibsqlStatement {
  run(...p: SqlValue[]): unknown;
  get(...p: SqlValue[]): unknown;
  all(...p: SqlValue[]): unknown[];
}
interface LibsqlDatabase {
  exec(sql: string): void;
  prepare(sql: string): LibsqlStatement;
  close(): void;
}

async function openLibsql(path: string): Promise<SqlConnection> {
  const mod = (await import("libsql")) as unknown as { default: new (p: string) => LibsqlDatabase };
  const db = new mod.default(path);
  return {
    driver: "libsql",
    exec: (sql) => db.exec(sql),
    prepare<Row>(sql: string): SqlStatement<Row> {
      const st = db.prepare(sql);
      return {
        run: (...p) => void st.run(...p),
        get: (...p) => st.get(...p) as Row | undefined,
        all: (...p) => st.all(...p) as Row[],
        // libsql statements are released with their database.
        finalize: () => {},
      };
    },
    close: () => db.close(),
  };
}
