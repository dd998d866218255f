/**
 * The embedded database flushes each commit to disk before it is acknowledged
 * (src/db/durable-nodefs.ts): PostgreSQL runs with fsync on, and the flushes reach the
 * kernel as fsync(2) on the WAL, seen from outside the process through strace.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { durableFsStats } from '../../src/db/durable-nodefs.js';
import { projectRoot } from '../support/process.js';
import { silentLogger } from '../support/stores.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'armada-durable-'));
  dirs.push(d);
  return d;
};

describe('the embedded database in a data directory', () => {
  it('runs with fsync on and flushes every commit, and keeps what it committed', async () => {
    const dir = tempDir();
    const db = await openDatabase({ kind: 'pglite', dataDir: dir, logger: silentLogger });
    try {
      expect(await db.query('SHOW fsync')).toEqual([{ fsync: 'on' }]);
      expect(await db.query('SHOW synchronous_commit')).toEqual([{ synchronous_commit: 'on' }]);
      expect(await db.query('SHOW wal_sync_method')).toEqual([{ wal_sync_method: 'fsync' }]);
      await db.query('CREATE TABLE acknowledged (v int PRIMARY KEY)');
      for (let i = 0; i < 5; i++) {
        const before = durableFsStats.fsyncs;
        await db.query('INSERT INTO acknowledged (v) VALUES ($1)', [i]);
        expect(durableFsStats.fsyncs, `commit ${i}`).toBeGreaterThan(before);
      }
    } finally {
      await db.close();
    }
    const again = await openDatabase({ kind: 'pglite', dataDir: dir, logger: silentLogger });
    expect(await again.query('SELECT count(*)::int AS n FROM acknowledged')).toEqual([{ n: 5 }]);
    await again.close();
  });
});

/** Everything under `root` that group or others may read, write or enter, with its mode. */
function notPrivate(root: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const st = statSync(path);
    if (st.mode & 0o077) found.push(`${(st.mode & 0o777).toString(8)} ${path}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return found;
}

describe('the data directory', () => {
  it('is private to its owner: 0700 directories, 0600 files, also those made before', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const db = await openDatabase({ kind: 'pglite', dataDir: dir, logger: silentLogger });
    await db.query('CREATE TABLE acknowledged (v int PRIMARY KEY)');
    await db.query('INSERT INTO acknowledged (v) VALUES (1)');
    await db.query('CHECKPOINT');
    expect(notPrivate(dir)).toEqual([]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await db.close();
    // A directory from before: world-writable files are taken back at the next start.
    const loosened = [
      ['pgdata', 0o777],
      ['pgdata/PG_VERSION', 0o666],
      ['pgdata/base', 0o777],
    ] as const;
    for (const [name, mode] of loosened) chmodSync(join(dir, name), mode);
    expect(notPrivate(dir)).toHaveLength(3);
    const again = await openDatabase({ kind: 'pglite', dataDir: dir, logger: silentLogger });
    expect(notPrivate(dir)).toEqual([]);
    await again.close();
  });
});

const straceWorks = spawnSync('strace', ['-o', '/dev/null', 'true']).status === 0;

describe.skipIf(!straceWorks)('seen from outside the process', () => {
  it('each acknowledged commit is an fsync(2) of a WAL file', () => {
    const dir = tempDir();
    const trace = join(dir, 'strace.out');
    const rows = ['a', 'b', 'c', 'd'];
    const child = [process.execPath, '--import', 'tsx', 'tests/support/commit-rows.ts', join(dir, 'data'), ...rows];
    const run = spawnSync('strace', ['-f', '-y', '-e', 'trace=fsync,fdatasync,write', '-o', trace, ...child], {
      cwd: projectRoot,
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const lines = readFileSync(trace, 'utf8').split('\n');
    const begin = lines.findIndex((l) => l.includes('ARMADA-COMMITS-BEGIN'));
    const end = lines.findIndex((l) => l.includes('ARMADA-COMMITS-END'));
    expect(begin).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(begin);
    const walFsyncs = lines.slice(begin, end).filter((l) => /\bfsync\(\d+<[^>]*\/pg_wal\/[0-9A-F]{24}>\)\s+=\s+0/.test(l));
    expect(walFsyncs.length).toBeGreaterThanOrEqual(rows.length);
  }, 120_000);
});
