/**
 * What `armada doctor` asks the database (src/ops/doctor.ts): the migrations applied, the
 * telemetry partitions present and the server's clock. Reads only.
 */
import type { Queryable } from './client.js';

export interface DatabaseFacts {
  /** drizzle's record of applied migrations: how many, and the newest one's journal time. */
  appliedMigrations: number;
  newestMigrationWhen: number | undefined;
  /** Names of the telemetry partitions. */
  partitions: string[];
  serverNowMs: number;
}

export async function databaseFacts(db: Queryable): Promise<DatabaseFacts> {
  const [clock] = await db.query(`SELECT (extract(epoch from clock_timestamp()) * 1000)::float8 AS now_ms`);
  const [table] = await db.query(`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present`);
  let appliedMigrations = 0;
  let newestMigrationWhen: number | undefined;
  if (table?.present) {
    const [m] = await db.query(`SELECT count(*)::int AS n, max(created_at)::float8 AS newest FROM drizzle.__drizzle_migrations`);
    appliedMigrations = Number(m?.n ?? 0);
    newestMigrationWhen = m?.newest === null || m?.newest === undefined ? undefined : Number(m.newest);
  }
  const [parent] = await db.query(`SELECT to_regclass('telemetry') IS NOT NULL AS present`);
  const partitions = parent?.present
    ? (
        await db.query(
          `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'telemetry'::regclass ORDER BY 1`,
        )
      ).map((r) => String(r.name))
    : [];
  return { appliedMigrations, newestMigrationWhen, partitions, serverNowMs: Number(clock?.now_ms) };
}

/** Why the database does not answer a trivial query, or undefined when it does. */
export async function whyNoAnswer(db: Queryable): Promise<Error | undefined> {
  try {
    await db.query('SELECT 1');
    return undefined;
  } catch (err) {
    return err as Error;
  }
}
