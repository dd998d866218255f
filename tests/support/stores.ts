/** Per-test-file stores: a fresh database (cloned from the migrated template, or PGlite) and the broker. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { pino } from 'pino';
import { openDatabase, type Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';

export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface TestDatabase {
  database: Database;
  /** A connection URL when the database is a real PostgreSQL server. */
  url: string | undefined;
  drop(): Promise<void>;
}

export function realPostgresConfigured(): boolean {
  return inject('pgAdminUrl') !== '';
}

export function realBrokerUrl(): string | undefined {
  return inject('mqttUrl') || undefined;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const template = inject('pgTemplate');
  if (!adminUrl) {
    const database = await openDatabase({ kind: 'pglite', dataDir: undefined, logger: silentLogger });
    await migrateDatabase(database);
    return { database, url: undefined, drop: () => database.close() };
  }
  const name = `armada_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const database = await openDatabase({ kind: 'postgres', url, logger: silentLogger });
  return {
    database,
    url,
    async drop() {
      await database.close();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
