/**
 * The command-line entry: `tsx src/cli.ts <command>`, behind the npm scripts
 * (start, api, worker, migrate; the demo has its own, demo/cli.ts). With it, the only
 * place that reads the environment; src/serve.ts listens for signals and exits.
 */
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { migrateDatabase } from './db/migrate.js';
import { createLogger } from './logger.js';
import { runMosquittoAuth } from './mosquitto/command.js';
import { purchaseRepository } from './repositories/finance/purchases.js';
import { openConfiguredDatabase } from './runtime.js';
import { fail, runService } from './serve.js';

const USAGE = `Usage: tsx src/cli.ts <command>

Commands:
  start     the service: API and ingest worker
  api       the HTTP API only
  worker    the ingest worker only
  migrate   apply database migrations and exit
  ledger verify [--json]
            walk the purchase ledger's hash chain and name the first broken entry (exit 0: intact, 1: broken).
            While the embedded service holds DATA_DIR, ask it instead: GET /api/v1/fuel-purchases/verify
  mosquitto-auth --passwd FILE --acl FILE [--service-user armada] [--service-password-env MQTT_ARMADA_PASSWORD]
            write Mosquitto's password and ACL files from the devices table, then reload it with SIGHUP

Configuration comes from the environment; see README.md.`;

/** `ledger verify`: the chain check from the command line (also on a restored dump). */
async function runLedger(args: string[], config: Config, logger: Logger): Promise<void> {
  if (args[0] !== 'verify') {
    process.stderr.write(`armada: unknown ledger command "${args[0] ?? ''}"\n\n${USAGE}\n`);
    process.exit(2);
  }
  let database: Awaited<ReturnType<typeof openConfiguredDatabase>>;
  try {
    database = await openConfiguredDatabase(config, logger);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      process.stderr.write(
        `armada: ${err.message}\nWhile it runs, verify through it: GET /api/v1/fuel-purchases/verify ` +
          '(an admin, finance or auditor key without a department).\n',
      );
      process.exit(2);
    }
    throw err;
  }
  try {
    const result = await purchaseRepository(database).verify();
    if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if (result.ok) process.stdout.write(`ledger intact: ${result.checked} entries verified; last hash ${result.lastHash}\n`);
    else {
      const b = result.firstBroken!;
      const where = `entry ${b.seq}${b.id ? ` (id ${b.id})` : ''}`;
      process.stdout.write(`ledger BROKEN at ${where}: ${b.problem}: ${b.detail}; ${result.checked} entries before it verified\n`);
    }
    process.exitCode = result.ok ? 0 : 1;
  } finally {
    await database.close();
  }
}

async function runMigrate(config: Config, logger: Logger): Promise<void> {
  const database = await openConfiguredDatabase(config, logger);
  try {
    await migrateDatabase(database);
    logger.info({ database: database.kind }, 'migrations applied');
  } finally {
    await database.close();
  }
}

async function main(): Promise<void> {
  const command = process.argv[2];
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(command ? 0 : 2);
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    fail(err);
  }
  const logger = createLogger(config.logLevel);
  try {
    switch (command) {
      case 'migrate':
        await runMigrate(config, logger);
        return;
      case 'ledger':
        await runLedger(process.argv.slice(3), config, logger);
        return;
      case 'mosquitto-auth':
        await runMosquittoAuth(process.argv.slice(3), config, logger);
        return;
      case 'start':
        return await runService(config, logger, { api: true, worker: true });
      case 'api':
        return await runService(config, logger, { api: true, worker: false });
      case 'worker':
        return await runService(config, logger, { api: false, worker: true });
      default:
        process.stderr.write(`armada: unknown command "${command}"\n\n${USAGE}\n`);
        process.exit(2);
    }
  } catch (err) {
    fail(err, logger);
  }
}

await main();
