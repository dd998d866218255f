/**
 * Backups as docs/operations.md describes them. PostgreSQL: `armada backup` (pg_dump,
 * custom format) restored with pg_restore into a new database answers the same reports
 * to the same API keys, its ledger chain verifies (`ledger verify`), and it holds the
 * partitioned telemetry and the append-only triggers. Embedded: `armada backup` writes
 * PGlite's data-directory tarball and `armada restore` brings it back into an empty DATA_DIR.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { dayRangeMs } from '../../src/domain/report-time.js';
import { purchaseRepository } from '../../src/repositories/finance/purchases.js';
import { startServices } from '../../src/runtime.js';
import { projectRoot } from '../support/process.js';
import { registerVehicleWithDevice, startTestService } from '../support/service.js';
import { realPostgresConfigured, silentLogger } from '../support/stores.js';
import { synthesise } from '../support/synthetic-day.js';
import { insertReadings } from '../support/telemetry-rows.js';

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code: code ?? -1, out })));
}

function run(command: string, args: string[]): Promise<{ code: number; out: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code: code ?? -1, out })));
}

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'armada-backup-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TZ = 'Asia/Makassar';
const DAY = '2026-02-10';

describe.runIf(realPostgresConfigured())('backup and restore on PostgreSQL', () => {
  it('restores into a new database with the same reports, API keys, ledger chain, partitions and triggers', async () => {
    const clock = new Date('2026-02-12T02:00:00Z');
    const t = await startTestService({ roles: { api: true, worker: false }, now: () => clock });
    const restoredName = `armada_r_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
    await admin.connect();
    let restored: Awaited<ReturnType<typeof startServices>> | undefined;
    try {
      const a = await registerVehicleWithDevice(t, { plate: 'DH 7201 BK', tankCapacityLitres: 60 });
      const day = synthesise(
        { tankCapacityLitres: 60, ratedLitresPer100Km: 10, idleLitresPerHour: 0.8 },
        [
          { kind: 'park', seconds: 7 * 3600 },
          { kind: 'drive', metres: 8000, cruiseKmh: 40 },
          { kind: 'refuel', litres: 25 },
          { kind: 'drive', metres: 6000, cruiseKmh: 40 },
          { kind: 'park', seconds: 10 * 3600 },
        ],
        { startMs: dayRangeMs(TZ, DAY).startMs, seed: 11, startLitres: 12 },
      );
      await insertReadings(t.testDb.database, a, day.readings, clock.getTime());
      await t.services.rollups.runOnce();
      const viewer = (
        (await (
          await t.api('/api/v1/api-keys', { method: 'POST', json: { name: 'viewer', role: 'viewer', departmentId: a.departmentId } })
        ).json()) as { key: string }
      ).key;
      const bought = await t.api('/api/v1/fuel-purchases', {
        method: 'POST',
        json: {
          vehicleId: a.vehicleId,
          at: '2026-02-10T11:00:00+08:00',
          litres: 25,
          amountIdr: 250_000,
          fuelType: 'pertalite',
          receiptNo: 'B-1',
        },
      });
      expect(bought.status).toBe(201);
      const paths = [
        '/api/v1/reports/fuel?from=2026-02-01&to=2026-02-11',
        '/api/v1/reports/savings?month=2026-02',
        '/api/v1/fuel-purchases',
      ];
      const answers = async (base: string, key: string) =>
        Promise.all(paths.map(async (p) => (await fetch(`${base}${p}`, { headers: { authorization: `Bearer ${key}` } })).json()));
      const before = await answers(t.services.httpUrl!, viewer);

      const file = join(tempDir(), 'armada.dump');
      const backup = await cli(['backup', '--out', file], { DATABASE_URL: t.testDb.url! });
      expect(backup.out).toContain('backup written');
      expect(backup.code).toBe(0);
      await admin.query(`CREATE DATABASE ${restoredName}`);
      const restoredUrl = new URL(t.testDb.url!);
      restoredUrl.pathname = `/${restoredName}`;
      const restore = await run('pg_restore', ['--no-owner', '--exit-on-error', '--dbname', restoredUrl.toString(), file]);
      expect(restore.out).toBe('');
      expect(restore.code).toBe(0);

      const verify = await cli(['ledger', 'verify'], { DATABASE_URL: restoredUrl.toString() });
      expect(verify.out).toContain('ledger intact: 1 entries verified');
      expect(verify.code).toBe(0);

      const shape = async (db: Queryable) => ({
        partitions: (
          await db.query<{ n: string }>(
            `SELECT c.relname AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'telemetry'::regclass ORDER BY 1`,
          )
        ).map((r) => r.n),
        partitioned: (
          await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_partitioned_table WHERE partrelid = 'telemetry'::regclass`)
        )[0]!.n,
        triggers: (await db.query<{ n: string }>(`SELECT tgname AS n FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`)).map((r) => r.n),
        rows: (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM telemetry`))[0]!.n,
      });
      const restoredDb = await openDatabase({ kind: 'postgres', url: restoredUrl.toString(), logger: silentLogger });
      const original = await shape(t.testDb.database);
      expect(original.triggers.some((n) => n.includes('append_only'))).toBe(true);
      expect(original.partitions).toContain('telemetry_2026_02');
      expect(original.partitioned).toBe(1);
      expect(await shape(restoredDb)).toEqual(original);

      // The restored database serves the same answers to the same keys.
      restored = await startServices(
        loadConfig({ DATABASE_URL: restoredUrl.toString(), HTTP_PORT: '0', RATE_LIMIT_PER_MINUTE: '100000' }),
        { api: true, worker: false },
        { logger: silentLogger, database: restoredDb, now: () => clock },
      );
      expect(await answers(restored.httpUrl!, viewer)).toEqual(before);
      expect(await answers(restored.httpUrl!, t.adminKey)).toEqual(await answers(t.services.httpUrl!, t.adminKey));
      await restored.close();
      await restoredDb.close();
      restored = undefined;
    } finally {
      await restored?.close();
      await admin.query(`DROP DATABASE IF EXISTS ${restoredName} WITH (FORCE)`);
      await admin.end();
      await t.close();
    }
  }, 300_000);
});

type Queryable = Pick<Database, 'query'>;

describe('backup and restore of the embedded database', () => {
  it('writes the data directory as a tarball and restores it into an empty DATA_DIR', async () => {
    const source = tempDir();
    const database = await openDatabase({ kind: 'pglite', dataDir: source, logger: silentLogger });
    await migrateDatabase(database);
    const [d] = await database.query<{ id: string }>(`INSERT INTO departments (code, name) VALUES ('DLH', 'Dinas') RETURNING id`);
    const [v] = await database.query<{ id: string }>(
      `INSERT INTO vehicles (plate_number, department_id, kind, fuel_type, tank_capacity_litres, rated_litres_per_100km, idle_litres_per_hour,
         monthly_allocation_litres) VALUES ('DH 1 A', $1, 'car', 'pertalite', 50, 10, 1, 100) RETURNING id`,
      [d!.id],
    );
    await purchaseRepository(database).append(
      {
        kind: 'purchase',
        vehicleId: v!.id,
        departmentId: d!.id,
        at: new Date(Date.UTC(2026, 1, 3, 4, 5, 6, 7)),
        litresMl: 20_500n,
        amountIdr: 205_000n,
        fuelType: 'pertalite',
        lat: -10.1,
        lon: 123.6,
        odometerKm: 1234.5,
        receiptNo: 'E-1',
        entryFlags: [],
      },
      { keyId: null, keyName: 'test' },
      new Date(Date.UTC(2026, 1, 3, 5)),
    );
    const file = join(tempDir(), 'armada-embedded.tar.gz');
    // While a process holds the data directory, the backup says so.
    const held = await cli(['backup', '--out', file], { DATA_DIR: source });
    expect(held.code).toBe(2);
    expect(held.out).toContain('Stop the service for the backup');
    await database.close();

    const backup = await cli(['backup', '--out', file], { DATA_DIR: source });
    expect(backup.out).toContain('backup written');
    expect(backup.code).toBe(0);
    expect(existsSync(file)).toBe(true);

    const target = join(tempDir(), 'restored');
    const restore = await cli(['restore', '--from', file], { DATA_DIR: target });
    expect(restore.out).toContain('restored');
    expect(restore.code).toBe(0);
    const again = await cli(['restore', '--from', file], { DATA_DIR: target });
    expect(again.code).not.toBe(0);
    expect(again.out).toContain('already holds a database');

    const verify = await cli(['ledger', 'verify'], { DATA_DIR: target });
    expect(verify.out).toContain('ledger intact: 1 entries verified');
    const restoredDb = await openDatabase({ kind: 'pglite', dataDir: target, logger: silentLogger });
    try {
      const rows = await restoredDb.query<{ plate_number: string }>('SELECT plate_number FROM vehicles');
      expect(rows.map((r) => r.plate_number)).toEqual(['DH 1 A']);
    } finally {
      await restoredDb.close();
    }
  }, 300_000);
});
