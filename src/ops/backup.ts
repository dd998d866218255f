/**
 * Backups (docs/operations.md). PostgreSQL: `pg_dump --format=custom`, restored with
 * pg_restore into a new database; the dump holds the partitioned telemetry, the
 * functions and the ledger's append-only triggers. Embedded (PGlite): the whole data
 * directory as PGlite's own gzipped tarball (dumpDataDir), restored by opening an empty
 * DATA_DIR with it (loadDataDir). Both run while nothing else holds the embedded data
 * directory; PostgreSQL's dump is consistent while the service runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { openDatabase, type Database } from '../db/client.js';

/** Writes the embedded database's data directory as a tarball (mode 0600, written whole then renamed). */
export async function backupEmbedded(database: Database, file: string): Promise<number> {
  if (!database.dumpDataDir) throw new Error('backupEmbedded needs the embedded database (PGlite)');
  const blob = await database.dumpDataDir();
  const bytes = Buffer.from(await blob.arrayBuffer());
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  writeFileSync(partial, bytes, { mode: 0o600 });
  renameSync(partial, file);
  return bytes.byteLength;
}

/** Restores a backupEmbedded tarball into a DATA_DIR that holds no database yet. */
export async function restoreEmbedded(dataDir: string, file: string, logger: Logger): Promise<void> {
  const pgdata = `${dataDir}/pgdata`;
  if (existsSync(pgdata) && readdirSync(pgdata).length > 0)
    throw new Error(`${pgdata} already holds a database: restore into an empty DATA_DIR (move the old one aside first)`);
  const blob = new Blob([readFileSync(file)]);
  const database = await openDatabase({ kind: 'pglite', dataDir, logger, loadDataDir: blob });
  try {
    if (!(await database.ping())) throw new Error('the restored database does not answer');
  } finally {
    await database.close();
  }
}

/** Runs pg_dump in its custom format into `file`; resolves with its stderr when it fails. */
export function backupPostgres(url: string, file: string, pgDump = 'pg_dump'): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(pgDump, ['--format=custom', '--no-owner', '--file', file, '--dbname', url], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => reject(new Error(`cannot run ${pgDump}: ${err.message} (install the PostgreSQL client tools)`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pg_dump failed (exit ${code}): ${stderr.trim()}`))));
  });
}
