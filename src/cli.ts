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
import { runEmqxUsers, runMosquittoAuth } from './mosquitto/command.js';
import { purchaseRepository } from './repositories/finance/purchases.js';
import { backupEmbedded, backupPostgres, restoreEmbedded } from './ops/backup.js';
import { describeChecks, runDoctor } from './ops/doctor.js';
import { describeRun } from './ops/retention.js';
import { createRepositories } from './repositories/index.js';
import { openConfiguredDatabase, retentionFor } from './runtime.js';
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
  emqx-users --out FILE [--service-user armada]
            write EMQX's device users (deploy/emqx/devices.csv) from the devices table, the same users and hashes
  retention [--dry-run] [--json]
            drop raw telemetry months older than TELEMETRY_RETENTION_MONTHS that are closed and settled;
            --dry-run prints what it would drop and why it refuses a month (docs/operations.md)
  backup --out FILE
            PostgreSQL: pg_dump --format=custom into FILE (restore with pg_restore into a new database);
            embedded: the PGlite data directory as a tarball (stop the service first: it holds DATA_DIR)
  restore --from FILE
            embedded only: restore a backup tarball into an empty DATA_DIR
  doctor [--mosquitto-passwd FILE] [--mosquitto-acl FILE] [--json]
            check the configuration, database, broker, data directory and clocks; exit 1 when something is wrong

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

function option(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) {
    process.stderr.write(`armada: ${name} needs a value\n\n${USAGE}\n`);
    process.exit(2);
  }
  return value;
}

/** Opens the configured database for a maintenance command; a held DATA_DIR is explained, exit 2. */
async function openForMaintenance(config: Config, logger: Logger, what: string) {
  try {
    return await openConfiguredDatabase(config, logger);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      process.stderr.write(`armada: ${err.message}\n${what}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function runRetention(args: string[], config: Config, logger: Logger): Promise<void> {
  const dryRun = args.includes('--dry-run');
  const database = await openForMaintenance(
    config,
    logger,
    'The running service applies the retention itself, daily, where the API runs (TELEMETRY_RETENTION_MONTHS).',
  );
  try {
    await migrateDatabase(database);
    const run = await retentionFor(config, createRepositories(database)).run(Date.now(), { dryRun, logger });
    process.stdout.write(args.includes('--json') ? `${JSON.stringify(run)}\n` : describeRun(run, dryRun));
  } finally {
    await database.close();
  }
}

async function runBackup(args: string[], config: Config, logger: Logger): Promise<void> {
  const out = option(args, '--out');
  if (!out) {
    process.stderr.write(`armada: backup needs --out FILE\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (config.databaseUrl) {
    await backupPostgres(config.databaseUrl, out);
    process.stdout.write(
      `backup written: ${out} (pg_dump custom format; restore: createdb NEW && pg_restore --no-owner --dbname NEW ${out})\n`,
    );
    return;
  }
  const database = await openForMaintenance(config, logger, 'Stop the service for the backup (a few seconds), then start it again.');
  try {
    const bytes = await backupEmbedded(database, out);
    process.stdout.write(`backup written: ${out} (${bytes} bytes; restore: DATA_DIR=EMPTY_DIR tsx src/cli.ts restore --from ${out})\n`);
  } finally {
    await database.close();
  }
}

async function runRestore(args: string[], config: Config, logger: Logger): Promise<void> {
  const from = option(args, '--from');
  if (!from) {
    process.stderr.write(`armada: restore needs --from FILE\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (config.databaseUrl) {
    process.stderr.write(`armada: on PostgreSQL restore with pg_restore: createdb NEW && pg_restore --no-owner --dbname NEW ${from}\n`);
    process.exit(2);
  }
  try {
    await restoreEmbedded(config.dataDir, from, logger);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      process.stderr.write(`armada: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  process.stdout.write(`restored ${from} into ${config.dataDir}\n`);
}

async function runDoctorCommand(args: string[]): Promise<void> {
  const logger = createLogger('silent');
  const mosquittoPasswd = option(args, '--mosquitto-passwd');
  const mosquittoAcl = option(args, '--mosquitto-acl');
  const checks = await runDoctor({
    env: process.env,
    logger,
    ...(mosquittoPasswd ? { mosquittoPasswd } : {}),
    ...(mosquittoAcl ? { mosquittoAcl } : {}),
  });
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(checks)}\n` : describeChecks(checks));
  process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
}

async function main(): Promise<void> {
  const command = process.argv[2];
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(command ? 0 : 2);
  }
  // The doctor reports a bad configuration as one of its findings, so it loads it itself.
  if (command === 'doctor') {
    await runDoctorCommand(process.argv.slice(3));
    return;
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
      case 'retention':
        await runRetention(process.argv.slice(3), config, logger);
        return;
      case 'backup':
        await runBackup(process.argv.slice(3), config, logger);
        return;
      case 'restore':
        await runRestore(process.argv.slice(3), config, logger);
        return;
      case 'mosquitto-auth':
        await runMosquittoAuth(process.argv.slice(3), config, logger);
        return;
      case 'emqx-users':
        await runEmqxUsers(process.argv.slice(3), config, logger);
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
