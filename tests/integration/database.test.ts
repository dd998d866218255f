/** The stores themselves: migrations under a lock, month partitions, and PGlite's data-directory lock. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { DataDirLockedError } from '../../src/db/data-dir-lock.js';
import { migrateDatabase, migrationsFolder } from '../../src/db/migrate.js';
import { silentLogger } from '../support/stores.js';

const adminUrl = inject('pgAdminUrl');
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe.skipIf(!adminUrl)('migrations on PostgreSQL', () => {
  it('lets several processes migrate one fresh database at the same time', async () => {
    const name = `armada_mig_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    cleanups.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    });
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    // Separate pools stand for separate processes: only the advisory lock keeps them apart.
    const dbs: Database[] = await Promise.all(
      [1, 2, 3].map(() => openDatabase({ kind: 'postgres', url: url.toString(), logger: silentLogger })),
    );
    try {
      await Promise.all(dbs.map((db) => migrateDatabase(db)));
      const applied = await dbs[0]!.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
      const journal = JSON.parse(readFileSync(join(migrationsFolder(), 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
      expect(applied[0]!.n).toBe(journal.entries.length);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });
});

describe('telemetry partitions', () => {
  it('creates a month partition on demand, once, and routes rows into it', async () => {
    const db = await openDatabase({ kind: 'pglite', dataDir: undefined, logger: silentLogger });
    try {
      await migrateDatabase(db);
      const names = await Promise.all(
        ['2024-02-29T23:59:59Z', '2024-02-01T00:00:00Z'].map((ts) =>
          db.query<{ n: string }>('SELECT armada_ensure_telemetry_partition($1) AS n', [ts]),
        ),
      );
      expect(names.map((r) => r[0]!.n)).toEqual(['telemetry_2024_02', 'telemetry_2024_02']);
      const bounds = await db.query<{ b: string }>(
        `SELECT pg_get_expr(c.relpartbound, c.oid) AS b FROM pg_class c WHERE c.relname = 'telemetry_2024_02'`,
      );
      expect(bounds[0]!.b).toContain('2024-02-01');
      expect(bounds[0]!.b).toContain('2024-03-01');
    } finally {
      await db.close();
    }
  });
});

describe('PGlite data directory', () => {
  it('refuses a second opener while the first holds it, and takes over a lock left by a dead process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'armada-lock-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const first = await openDatabase({ kind: 'pglite', dataDir: dir, logger: silentLogger });
    await expect(openDatabase({ kind: 'pglite', dataDir: dir, logger: silentLogger })).rejects.toBeInstanceOf(DataDirLockedError);
    await first.close();

    // A pid that cannot be alive: the lock is stale and is taken over.
    writeFileSync(join(dir, 'armada.lock'), '2147483646');
    const again = await openDatabase({ kind: 'pglite', dataDir: dir, logger: silentLogger });
    expect(await again.ping()).toBe(true);
    await again.close();
  });
});
