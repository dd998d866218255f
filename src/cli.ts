/**
 * The command-line entry: `tsx src/cli.ts <command>`, behind the npm scripts
 * (start, api, worker, migrate; the demo has its own, demo/cli.ts). With it, the only
 * place that reads the environment; src/serve.ts listens for signals and exits.
 */
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config.js';
import { migrateDatabase } from './db/migrate.js';
import { createLogger } from './logger.js';
import { runMosquittoAuth } from './mosquitto/command.js';
import { openConfiguredDatabase } from './runtime.js';
import { fail, runService } from './serve.js';

const USAGE = `Usage: tsx src/cli.ts <command>

Commands:
  start     the service: API and ingest worker
  api       the HTTP API only
  worker    the ingest worker only
  migrate   apply database migrations and exit
  mosquitto-auth --passwd FILE --acl FILE [--service-user armada] [--service-password-env MQTT_ARMADA_PASSWORD]
            write Mosquitto's password and ACL files from the devices table, then reload it with SIGHUP

Configuration comes from the environment; see README.md.`;

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
