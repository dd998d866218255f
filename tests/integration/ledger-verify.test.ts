/**
 * `ledger verify` from the command line: the chain verifies after a pg_dump and restore
 * (PostgreSQL), a change behind the triggers is named, and on the embedded database the
 * command points at the admin route while the service holds the data directory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { purchaseRepository } from '../../src/repositories/finance/purchases.js';
import { projectRoot } from '../support/process.js';
import { createTestDatabase, realPostgresConfigured, silentLogger } from '../support/stores.js';

function ledgerVerify(env: Record<string, string>): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'ledger', 'verify'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code: code ?? -1, out })));
}

/** A department, a vehicle and `n` purchases (a void among them) appended through the repository. */
async function fillLedger(database: Database, n: number): Promise<void> {
  const [d] = await database.query<{ id: string }>(`INSERT INTO departments (code, name) VALUES ('DLH', 'Dinas') RETURNING id`);
  const [v] = await database.query<{ id: string }>(
    `INSERT INTO vehicles (plate_number, department_id, kind, fuel_type, tank_capacity_litres, rated_litres_per_100km, idle_litres_per_hour,
       monthly_allocation_litres)
     VALUES ('DH 1 A', $1, 'car', 'pertalite', 50, 10, 1, 100) RETURNING id`,
    [d!.id],
  );
  const repo = purchaseRepository(database);
  const actor = { keyId: null, keyName: 'test' };
  let first: string | undefined;
  for (let i = 0; i < n; i++) {
    const e = await repo.append(
      {
        kind: 'purchase',
        vehicleId: v!.id,
        departmentId: d!.id,
        // Odd milliseconds, odd decimals and doubles: what a dump must keep exactly.
        at: new Date(Date.UTC(2026, 10, 1 + i, 1, 2, 3, 7 * i)),
        litresMl: 12_345n + BigInt(i * 101),
        amountIdr: 123_456n + BigInt(i),
        fuelType: 'pertalite',
        lat: -10.1 - i / 3,
        lon: 123.6 + i / 7,
        odometerKm: 1234.5 + i / 3,
        receiptNo: `R${i}`,
        entryFlags: i === 2 ? [{ kind: 'duplicate_receipt', detail: 'ünïcode “quoted”' }] : [],
      },
      actor,
      new Date(Date.UTC(2026, 10, 20, 0, 0, 0, 333 + i)),
    );
    first ??= e.id;
  }
  const p = (await repo.findById({ departmentId: null }, first!))!;
  await repo.append({ ...p, kind: 'void', voidsId: p.id, reason: 'wrong vehicle' }, actor, new Date(Date.UTC(2026, 10, 21)));
}

describe.runIf(realPostgresConfigured())('ledger verify on PostgreSQL', () => {
  it('verifies after pg_dump and restore, and names the entry changed behind the triggers', async () => {
    const source = await createTestDatabase();
    const restoredName = `armada_r_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
    await admin.connect();
    try {
      await fillLedger(source.database, 8);
      await admin.query(`CREATE DATABASE ${restoredName}`);
      const restoredUrl = new URL(source.url!);
      restoredUrl.pathname = `/${restoredName}`;
      // A plain-text dump through psql: the most lossy path an operator might take.
      const dumped = await new Promise<number>((resolve, reject) => {
        const dump = spawn('sh', ['-c', `pg_dump --no-owner "${source.url}" | psql -q -v ON_ERROR_STOP=1 "${restoredUrl.toString()}"`], {
          stdio: 'ignore',
        });
        dump.once('error', reject);
        dump.once('exit', (code) => resolve(code ?? -1));
      });
      expect(dumped).toBe(0);

      const intact = await ledgerVerify({ DATABASE_URL: restoredUrl.toString() });
      expect(intact.out).toContain('ledger intact: 9 entries verified');
      expect(intact.code).toBe(0);

      const restored = new pg.Client({ connectionString: restoredUrl.toString() });
      await restored.connect();
      const { rows } = await restored.query<{ id: string }>('SELECT id FROM fuel_purchases WHERE seq = 5');
      await restored.query('ALTER TABLE fuel_purchases DISABLE TRIGGER fuel_purchases_append_only');
      await restored.query('UPDATE fuel_purchases SET amount_idr = amount_idr - 1000 WHERE seq = 5');
      await restored.query('ALTER TABLE fuel_purchases ENABLE TRIGGER fuel_purchases_append_only');
      await restored.end();
      const broken = await ledgerVerify({ DATABASE_URL: restoredUrl.toString() });
      expect(broken.code).toBe(1);
      expect(broken.out).toContain(`ledger BROKEN at entry 5 (id ${rows[0]!.id})`);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${restoredName} WITH (FORCE)`);
      await admin.end();
      await source.drop();
    }
  });
});

describe('ledger verify on the embedded database', () => {
  it('points at the admin route while the data directory is held, and verifies once it is free', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'armada-ledger-'));
    try {
      const database = await openDatabase({ kind: 'pglite', dataDir, logger: silentLogger });
      await migrateDatabase(database);
      await fillLedger(database, 3);
      const held = await ledgerVerify({ DATA_DIR: dataDir });
      expect(held.code).toBe(2);
      expect(held.out).toContain('GET /api/v1/fuel-purchases/verify');
      await database.close();
      const free = await ledgerVerify({ DATA_DIR: dataDir });
      expect(free.out).toContain('ledger intact: 4 entries verified');
      expect(free.code).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
