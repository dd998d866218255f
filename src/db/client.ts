/**
 * Opens the one database Armada uses: PostgreSQL through `pg` when a URL is given,
 * otherwise PGlite (PostgreSQL compiled to WASM) in a data directory or in memory.
 * Both are exposed the same way: drizzle for ordinary queries, and a small raw-SQL
 * interface for hot paths where drizzle's query building is the cost.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Logger } from 'pino';
import * as schema from './schema.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Anything that runs a parameterised statement: the pool, a transaction, PGlite. */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
}

/** A transaction's statements; on PostgreSQL also `COPY … FROM STDIN`. */
export interface Transaction extends Queryable {
  /** PostgreSQL only: runs a `COPY … FROM STDIN` statement with this as its data. */
  copyFrom?(statement: string, data: Buffer): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Db;
  /** Runs `fn` in one transaction; commits if it resolves, rolls back if it throws. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** True when a trivial query answers. */
  ping(): Promise<boolean>;
  /** PGlite only: the whole data directory as a gzipped tarball (PGlite's dumpDataDir), for `armada backup`. */
  dumpDataDir?(): Promise<Blob>;
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { kind: 'postgres'; url: string; logger: Logger; poolSize?: number }
  | { kind: 'pglite'; dataDir: string | undefined; logger: Logger; loadDataDir?: Blob };

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.kind === 'postgres' ? openPostgres(options) : openPglite(options);
}

async function openPostgres(options: { url: string; logger: Logger; poolSize?: number }): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    query_timeout: 60_000,
    idleTimeoutMillis: 30_000,
    application_name: 'armada',
  });
  // An idle connection dropped by the server emits 'error' on the pool; unhandled,
  // it would kill the process. The next query simply gets a fresh connection.
  pool.on('error', (err) => options.logger.warn({ err: err.message }, 'postgres idle connection lost'));
  // A server message that arrives on a checked-out connection between two queries (a
  // FATAL, a broken stream) is emitted on the client, where nobody else listens: without
  // this, it would end the process. The query in flight, if any, fails on its own.
  pool.on('connect', (client) => client.on('error', (err) => options.logger.warn({ err: err.message }, 'postgres connection error')));
  const db = drizzlePg(pool, { schema }) as unknown as Db;

  return {
    kind: 'postgres',
    db,
    async query(text, params) {
      const res = await pool.query(text, params as unknown[] | undefined);
      return res.rows;
    },
    async transaction(fn) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn({
          async query(text, params) {
            const res = await client.query(text, params as unknown[] | undefined);
            return res.rows;
          },
          async copyFrom(statement, data) {
            await pipeline(Readable.from([data]), client.query(copyFrom(statement)));
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await pool.end();
    },
  };
}

async function openPglite(options: { dataDir: string | undefined; logger: Logger; loadDataDir?: Blob }): Promise<Database> {
  let lock: DataDirLock | undefined;
  if (options.dataDir) lock = await acquireDataDirLock(options.dataDir);
  // Loaded only when used: PGlite's WASM build costs a server on PostgreSQL ~40 MB for nothing.
  const [{ PGlite: PGliteClass }, { drizzle: drizzlePglite }, { durablePgliteOptions }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('./durable-nodefs.js'),
  ]);
  let client: PGlite;
  try {
    client = options.dataDir
      ? await PGliteClass.create({
          ...durablePgliteOptions(`${options.dataDir}/pgdata`, PGliteClass.defaultStartParams),
          // A backup restored into an empty data directory (`armada restore`).
          ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
        })
      : await PGliteClass.create(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  } catch (err) {
    lock?.release();
    throw err;
  }
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  // What the embedded mode promises, said where an operator looks first (docs/embedded-mode.md).
  if (options.dataDir) {
    options.logger.info(
      { dataDir: options.dataDir },
      'embedded database (PGlite): one process per data directory, each commit flushed to disk before it is acknowledged; ' +
        'for production set DATABASE_URL (PostgreSQL: backups, replicas, several processes)',
    );
  } else {
    options.logger.warn('embedded database (PGlite) in memory: everything stored is lost when the process ends');
  }
  let closed = false;
  return {
    kind: 'pglite',
    db,
    async query(text, params) {
      const res = await client.query(text, params);
      return res.rows as never[];
    },
    async transaction(fn) {
      return client.transaction((tx) =>
        fn({
          async query(text, params) {
            const res = await tx.query(text, params);
            return res.rows as never[];
          },
        }),
      );
    },
    async ping() {
      if (closed) return false;
      try {
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async dumpDataDir() {
      return client.dumpDataDir('gzip');
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
      lock?.release();
    },
  };
}
