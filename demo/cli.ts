/**
 * `npm run demo`: the service with everything embedded, the Kupang demo fleet seeded, and
 * the simulator driving it over MQTT. The one module that wires the service (src/) and
 * the simulator (simulator/) together; neither of those imports the other.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoSimVehicle } from '../simulator/demo-fleet.js';
import { startLiveSimulation } from '../simulator/live.js';
import { loadConfig, type Config } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import type { Repositories } from '../src/repositories/index.js';
import type { LatestPositionRow } from '../src/repositories/positions.js';
import { ALL_DEPARTMENTS } from '../src/repositories/scope.js';
import type { Services } from '../src/runtime.js';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../src/security/secrets.js';
import { fail, runService } from '../src/serve.js';
import { startFinanceBackfill } from './finance-backfill.js';
import { seedDemoFleet } from './seed.js';

/** The demo's admin key: ADMIN_API_KEY, or one made on first run and kept in DATA_DIR. */
async function demoAdminKey(config: Config, repos: Repositories): Promise<string> {
  if (config.adminApiKey) return config.adminApiKey;
  const file = join(config.dataDir, 'demo-admin-key');
  try {
    const saved = readFileSync(file, 'utf8').trim();
    if (await repos.apiKeys.findActiveByHash(hashApiKey(saved), new Date())) return saved;
  } catch {
    // no saved key yet
  }
  const key = generateApiKey();
  await repos.apiKeys.create({
    name: 'demo admin',
    role: 'admin',
    departmentId: null,
    keyHash: hashApiKey(key),
    keyPrefix: apiKeyPrefix(key),
  });
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/** Where a vehicle stopped, for the simulator to go on from there. */
function resumeAt(p: LatestPositionRow | undefined): { startAt?: { lat: number; lon: number; levelLitres: number | null } } {
  if (!p) return {};
  const levelLitres = p.fuelLitres ?? (p.fuelPercent === null ? null : (p.fuelPercent * p.tankCapacityLitres) / 100);
  return { startAt: { lat: p.lat, lon: p.lon, levelLitres } };
}

async function startDemo(config: Config, services: Services, logger: ReturnType<typeof createLogger>): Promise<() => Promise<void>> {
  const seeded = await seedDemoFleet(services.repos);
  const key = await demoAdminKey(config, services.repos);
  // A demo run again resumes each vehicle where it stopped, with the level it had, rather
  // than making it jump (a jump would read as a trip, a refuel or a drain).
  const latest = new Map((await services.repos.positions.latest(ALL_DEPARTMENTS)).map((p) => [p.vehicleId, p]));
  const simulation = await startLiveSimulation({
    mqttUrl: services.deviceMqttUrl!,
    devices: seeded.map((d) => ({ ...demoSimVehicle(d.vehicle, d.deviceId), secret: d.secret, ...resumeAt(latest.get(d.vehicleId)) })),
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
      `Press Ctrl-C to stop. Data is kept in ${config.databaseUrl ? 'PostgreSQL' : config.dataDir}.`,
      '',
    ].join('\n'),
  );
  return async () => {
    backfill.stop();
    await simulation.stop();
    await backfill.done;
  };
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  fail(err);
}
const logger = createLogger(config.logLevel);
try {
  await runService(config, logger, { api: true, worker: true }, (services) => startDemo(config, services, logger));
} catch (err) {
  fail(err, logger);
}
