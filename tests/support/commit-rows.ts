/**
 * Opens the embedded database in the directory named by its first argument, as `armada
 * start` does, and commits one row per further argument, one transaction each: a process
 * the durability test can watch under strace.
 */
import { pino } from 'pino';
import { openDatabase } from '../../src/db/client.js';

const [dataDir, ...values] = process.argv.slice(2);
const db = await openDatabase({ kind: 'pglite', dataDir: dataDir!, logger: pino({ level: 'silent' }) });
await db.query('CREATE TABLE IF NOT EXISTS acknowledged (v text PRIMARY KEY)');
process.stderr.write('ARMADA-COMMITS-BEGIN\n');
for (const v of values) await db.query('INSERT INTO acknowledged (v) VALUES ($1)', [v]);
process.stderr.write('ARMADA-COMMITS-END\n');
await db.close();
