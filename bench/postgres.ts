/**
 * The benchmark's PostgreSQL: a fresh database per run on the server named by
 * BENCH_DATABASE_URL, migrated with Armada's own migrations, seeded with a fleet by
 * plain SQL, and dropped at the end, so a run neither sees nor leaves other data.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { openDatabase, type Database } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function adminUrl(): string {
  return process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL;
}

/** The URL without its password, for messages. */
export function describeUrl(url: string): string {
  const u = new URL(url);
  u.password = '';
  return u.toString();
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'armada-bench' });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${describeUrl(url)} (${(err as Error).message}). Start it (pg_isready -h 127.0.0.1) or set BENCH_DATABASE_URL to a server where this user may create databases.`,
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface PostgresInfo {
  version: string;
  /** Commit latency, and so batch throughput, depends on it. */
  synchronousCommit: string;
}

export function postgresInfo(url: string): Promise<PostgresInfo> {
  return withAdmin(url, async (client) => {
    const version = await client.query<{ server_version: string }>('SHOW server_version');
    const sync = await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
    return { version: version.rows[0]!.server_version, synchronousCommit: sync.rows[0]!.synchronous_commit };
  });
}

/**
 * Writes out what earlier benchmarks left dirty in the server's buffers (the analytics
 * one writes ~600,000 rows), so that checkpoint I/O does not land in the next one's
 * measurement. Seen: a live-feed p99 of 816 ms right after the analytics bench, 131-143 ms
 * when run alone. Needs a superuser (or pg_checkpoint); without one the bench goes on.
 */
export async function checkpoint(url: string): Promise<boolean> {
  try {
    await withAdmin(url, (client) => client.query('CHECKPOINT'));
    return true;
  } catch {
    return false;
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  /** The bench's own connection, for seeding and checking. */
  database: Database;
  drop(): Promise<void>;
}

export async function createBenchDatabase(admin: string, logger: Logger): Promise<BenchDatabase> {
  const name = `armada_bench_${Date.now()}`;
  await withAdmin(admin, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const drop = () => withAdmin(admin, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined);
  let database: Database | undefined;
  try {
    database = await openDatabase({ kind: 'postgres', url: url.toString(), logger });
    await migrateDatabase(database);
  } catch (err) {
    await database?.close().catch(() => undefined);
    await drop();
    throw err;
  }
  const opened = database;
  return {
    name,
    url: url.toString(),
    database: opened,
    async drop() {
      await opened.close().catch(() => undefined);
      await drop();
    },
  };
}

// The fleet's seeding lives in bench/seed.ts; kept importable from here for the benches that import it so.
export { benchDeviceId, seedFleet } from './seed.js';
