/**
 * The command-line entry: `tsx src/cli.ts <command>`, behind the npm scripts
 * (demo, start, api, worker, migrate). The only place that reads the environment,
 * listens for signals and exits.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { migrateDatabase } from './db/migrate.js';
import { PortInUseError } from './broker/embedded.js';
import { startFinanceBackfill } from './demo/finance-backfill.js';
import { demoSimVehicle } from './demo/kupang-fleet.js';
import { seedDemoFleet } from './demo/seed.js';
import { createLogger } from './logger.js';
import { purchaseRepository } from './repositories/finance/purchases.js';
import type { Repositories } from './repositories/index.js';
import { openConfiguredDatabase, startServices, type Roles, type Services } from './runtime.js';
import { apiKeyPrefix, generateApiKey, hashApiKey } from './security/secrets.js';
import { startLiveSimulation } from '../simulator/live.js';
import { MosquittoAuthUsageError, runMosquittoAuth } from './mosquitto/command.js';

const USAGE = `Usage: tsx src/cli.ts <command>

Commands:
  demo      embedded everything with the seeded Kupang demo fleet and the simulator driving it
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

/** Problems a user can fix: printed as one clear message, without a stack trace. */
function isUserFacing(err: unknown): err is Error {
  return err instanceof ConfigError || err instanceof DataDirLockedError || err instanceof PortInUseError || err instanceof MosquittoAuthUsageError;
}

function fail(err: unknown, logger?: Logger): never {
  if (isUserFacing(err)) {
    process.stderr.write(`armada: ${err.message}\n`);
    process.exit(2);
  }
  if (logger) logger.fatal({ err }, 'armada stopped');
  else process.stderr.write(`armada: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
}

/** `ledger verify`: the chain check from the command line (also on a restored dump). */
async function runLedger(args: string[], config: Config, logger: Logger): Promise<void> {
  if (args[0] !== 'verify') {
    process.stderr.write(`armada: unknown ledger command "${args[0] ?? ''}"\n\n${USAGE}\n`);
    process.exit(2);
  }
  let database;
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

/** The demo's admin key: ADMIN_API_KEY, or one made on first run and kept in DATA_DIR. */
async function demoAdminKey(config: Config, repos: Repositories): Promise<string> {
  if (config.adminApiKey) return config.adminApiKey;
  const file = join(config.dataDir, 'demo-admin-key');
  try {
    const saved = readFileSync(file, 'utf8').trim();
    if (await repos.apiKeys.findActiveByHash(hashApiKey(saved))) return saved;
  } catch {
    // no saved key yet
  }
  const key = generateApiKey();
  await repos.apiKeys.create({ name: 'demo admin', role: 'admin', departmentId: null, keyHash: hashApiKey(key), keyPrefix: apiKeyPrefix(key) });
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

async function runService(config: Config, logger: Logger, roles: Roles, demo: boolean): Promise<void> {
  let services: Services | undefined;
  let stopSimulation: (() => Promise<void>) | undefined;
  const grace = closeWithGrace({ delay: 15_000 }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    await stopSimulation?.();
    await services?.close();
  });

  services = await startServices(config, roles, { logger });

  if (demo) {
    const seeded = await seedDemoFleet(services.repos);
    const key = await demoAdminKey(config, services.repos);
    const simulation = await startLiveSimulation({
      mqttUrl: services.deviceMqttUrl!,
      devices: seeded.map((d) => ({ ...demoSimVehicle(d.vehicle, d.deviceId), secret: d.secret })),
      intervalS: 2,
      seed: 2026,
      onError: (e) => logger.warn({ err: e.message }, 'simulator error'),
    });
    const url = services.httpUrl!;
    // Last month and this month so far, through MQTT and the ledger's API, for the finance reports.
    const backfill = startFinanceBackfill({
      mqttUrl: services.deviceMqttUrl!,
      apiUrl: url,
      apiKey: key,
      devices: seeded,
      reportTz: config.reportTz,
      doneFile: join(config.dataDir, 'demo-history-sent'),
      logger,
    });
    stopSimulation = async () => {
      backfill.stop();
      await simulation.stop();
      await backfill.done;
    };
    process.stdout.write(
      [
        '',
        `Armada demo: ${seeded.length} Kupang vehicles are driving.`,
        '',
        `  Live map       ${url}/#key=${encodeURIComponent(key)}`,
        `  API            ${url}/api/v1`,
        `  API docs       ${url}/docs`,
        `  Admin API key  ${key}`,
        `  MQTT broker    ${services.deviceMqttUrl}`,
        '',
        `  Try:  curl -H "Authorization: Bearer ${key}" ${url}/api/v1/positions/latest`,
        '',
        'Press Ctrl-C to stop. Data is kept in ' + (config.databaseUrl ? 'PostgreSQL' : config.dataDir) + '.',
        '',
      ].join('\n'),
    );
  } else if (services.httpUrl) {
    logger.info({ url: services.httpUrl }, 'armada is listening');
  }
  void grace;
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
      case 'demo':
        return await runService(config, logger, { api: true, worker: true }, true);
      case 'start':
        return await runService(config, logger, { api: true, worker: true }, false);
      case 'api':
        return await runService(config, logger, { api: true, worker: false }, false);
      case 'worker':
        return await runService(config, logger, { api: false, worker: true }, false);
      default:
        process.stderr.write(`armada: unknown command "${command}"\n\n${USAGE}\n`);
        process.exit(2);
    }
  } catch (err) {
    fail(err, logger);
  }
}

await main();
