/**
 * What durable commits cost on PGlite (src/db/durable-nodefs.ts): the same ingest-shaped
 * work, batches of readings committed one transaction each, on PGlite as it ships
 * (fsync off, flushes are no-ops) and durable (each commit's WAL flushed to disk).
 *
 *   npx tsx bench/pglite-durability.ts [batches=200] [rowsPerBatch=100]
 *
 * Prints commits/s and readings/s for each, and the flushes the durable one made. A
 * small, short run; the disk decides the figure (a laptop SSD, a VPS's network disk and
 * an SD card differ by 10x or more), so measure on the machine that will run it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { durableFsStats, durablePgliteOptions } from '../src/db/durable-nodefs.js';

const batches = Number(process.argv[2] ?? 200);
const rowsPerBatch = Number(process.argv[3] ?? 100);

async function run(label: string, durable: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'armada-bench-durability-'));
  try {
    const dataDir = join(dir, 'pgdata');
    const pg = durable ? await PGlite.create(durablePgliteOptions(dataDir, PGlite.defaultStartParams)) : await PGlite.create(dataDir);
    await pg.exec(`CREATE TABLE r (device_id text, fix_at timestamptz, lat float8, lon float8, speed_kmh real,
      PRIMARY KEY (device_id, fix_at))`);
    const before = durableFsStats.fsyncs;
    const started = performance.now();
    for (let b = 0; b < batches; b++) {
      const base = Date.UTC(2026, 0, 1) + b * rowsPerBatch * 1000;
      await pg.query(
        `INSERT INTO r SELECT 'dev-' || (i % 50), to_timestamp(($1::float8 + i * 1000) / 1000), -10.17, 123.6, 40
           FROM generate_series(0, $2::int - 1) AS i`,
        [base, rowsPerBatch],
      );
    }
    const seconds = (performance.now() - started) / 1000;
    const flushes = durableFsStats.fsyncs - before;
    const commits = `${(batches / seconds).toFixed(0).padStart(6)} commits/s`;
    const readings = `${((batches * rowsPerBatch) / seconds).toFixed(0).padStart(7)} readings/s`;
    const perCommit = `${((1000 * seconds) / batches).toFixed(2)} ms/commit`;
    console.log(`${label.padEnd(10)} ${commits}  ${readings}  ${perCommit}${durable ? `  ${flushes} fsyncs` : ''}`);
    await pg.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`${batches} commits of ${rowsPerBatch} readings each`);
await run('as-shipped', false);
await run('durable', true);
