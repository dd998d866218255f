/**
 * Takes the data directory lock (src/db/data-dir-lock.ts) on the directory named by its
 * argument, says "held <pid>" and holds it until killed: a holder the lock tests can kill.
 */
import { acquireDataDirLock } from '../../src/db/data-dir-lock.js';

await acquireDataDirLock(process.argv[2]!);
process.stdout.write(`held ${process.pid}\n`);
setInterval(() => {}, 60_000);
