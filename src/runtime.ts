/**
 * Wires Armada's parts together for one process: the database (PostgreSQL or PGlite),
 * the broker (external or embedded), the ingest worker and the HTTP API, in the
 * roles asked for. Opens everything in dependency order and closes it in reverse.
 * Entry points (src/cli.ts) and tests call this; nothing here listens for signals.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/client.js';
import { migrateDatabase } from './db/migrate.js';
import { PortInUseError, type EmbeddedBroker } from './broker/embedded.js';
import { startEmbeddedIngest, startExternalIngest, type RunningIngest } from './ingest/start.js';
import { createMetrics, type Metrics } from './metrics.js';
import { ensureDefaultGeofence } from './alerts/engine.js';
import { startRollupJob, type RollupJob } from './analytics/rollup-job.js';
import { startSettleJob, type SettleJob } from './finance/settle-job.js';
import type { LiveHub } from './live/hub.js';
import type { LiveSubscriber } from './live/subscriber.js';
import { createRepositories, type Repositories } from './repositories/index.js';
import { apiKeyPrefix, hashApiKey } from './security/secrets.js';
import { createServices, type DomainServices } from './services.js';
import { createRetention, startRetentionJob } from './ops/retention.js';

const RETENTION_INTERVAL_MS = 24 * 3600_000;

/** The telemetry retention over these repositories and this configuration (the CLI's `retention` and the daily job). */
export function retentionFor(config: Config, repos: Repositories) {
  return createRetention({
    retention: repos.retention,
    closings: repos.closings,
    purchases: repos.purchases,
    verdicts: repos.verdicts,
    analytics: repos.analytics,
    reportTz: config.reportTz,
    trips: config.analytics.trips,
    keepMonths: config.telemetryRetentionMonths,
  });
}

export interface Roles {
  api: boolean;
  worker: boolean;
}

export interface Services {
  readonly config: Config;
  readonly database: Database;
  readonly repos: Repositories;
  /** The services over the repositories (analytics, finance). */
  readonly domain: DomainServices;
  /** Set when this process runs the embedded broker. */
  readonly broker: EmbeddedBroker | undefined;
  /** Where devices connect: MQTT_URL, or the embedded broker. */
  readonly deviceMqttUrl: string | undefined;
  readonly ingest: RunningIngest | undefined;
  /** The daily rollup job of the analytics; it runs by itself only where the API runs. */
  readonly rollups: RollupJob;
  /** The job that settles verdicts on receipts and raises their alerts (src/finance/settle-job.ts). */
  readonly settle: SettleJob;
  readonly metrics: Metrics;
  readonly app: FastifyInstance | undefined;
  /** The API's base URL once it listens (a worker's: its METRICS_PORT server, if set). */
  readonly httpUrl: string | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** An already open database (tests); otherwise one is opened from the config. */
  database?: Database;
  now?: () => Date;
  /** false: the API is built and made ready but does not listen (tests answer requests with `app.inject`). */
  listen?: boolean;
}

export async function openConfiguredDatabase(config: Config, logger: Logger): Promise<Database> {
  return config.databaseUrl
    ? openDatabase({ kind: 'postgres', url: config.databaseUrl, logger })
    : openDatabase({ kind: 'pglite', dataDir: config.dataDir, logger });
}

/** Creates the first admin key from ADMIN_API_KEY when no admin key exists yet. */
export async function bootstrapAdminKey(repos: Repositories, adminApiKey: string | undefined, logger: Logger): Promise<void> {
  if (!adminApiKey) return;
  if (await repos.apiKeys.findActiveByHash(hashApiKey(adminApiKey), new Date())) return;
  if ((await repos.apiKeys.countActiveAdmins(new Date())) > 0) {
    logger.warn('ADMIN_API_KEY is set but an admin key already exists; it was not added (create keys through the API)');
    return;
  }
  await repos.apiKeys.create({
    name: 'bootstrap admin (ADMIN_API_KEY)',
    role: 'admin',
    departmentId: null,
    keyHash: hashApiKey(adminApiKey),
    keyPrefix: apiKeyPrefix(adminApiKey),
  });
  logger.info('created the admin API key from ADMIN_API_KEY');
}

export async function startServices(config: Config, roles: Roles, options: StartOptions): Promise<Services> {
  const { logger } = options;
  const now = options.now ?? (() => new Date());
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'error while closing');
      }
    }
  };

  // The HTTP stack takes about a second of CPU to load. Loaded after the broker opened,
  // it stalled the ingest of devices reconnecting after a crash; so it loads first.
  const httpModules = roles.api
    ? Promise.all([import('./http/app.js'), import('./live/hub.js'), import('./live/subscriber.js')])
    : undefined;
  // Failures surface where it is awaited; this only keeps an early one from being unhandled.
  httpModules?.catch(() => undefined);
  try {
    const database = options.database ?? (await openConfiguredDatabase(config, logger));
    if (!options.database) closers.push(() => database.close());
    await migrateDatabase(database);
    const repos = createRepositories(database);
    const domain = createServices(repos, { analytics: config.analytics, ledger: config.ledger, reconciliation: config.reconciliation });
    await bootstrapAdminKey(repos, config.adminApiKey, logger);
    await ensureDefaultGeofence(repos);
    // The API's processes keep the rollups current (an advisory lock lets one run at a
    // time on PostgreSQL); a worker-only process spends itself on ingest alone.
    const rollups = startRollupJob(
      {
        analytics: domain.analytics,
        analyticsRepo: repos.analytics,
        vehicles: repos.vehicles,
        logger: logger.child({ component: 'rollups' }),
        now,
      },
      { autoStart: roles.api },
    );
    closers.push(() => rollups.stop());
    // Verdicts on receipts and their alerts, like the rollups: where the API runs.
    const settle = startSettleJob(
      {
        reconciliation: domain.reconciliation,
        purchases: repos.purchases,
        verdicts: repos.verdicts,
        alerts: repos.alerts,
        vehicles: repos.vehicles,
        reportTz: config.reportTz,
        logger: logger.child({ component: 'settle' }),
        now,
        intervalS: config.reconciliation.settleIntervalS,
      },
      { autoStart: roles.api },
    );
    closers.push(() => settle.stop());
    // Telemetry retention, daily, where the API runs (nothing while TELEMETRY_RETENTION_MONTHS is 0).
    const retentionJob = startRetentionJob(retentionFor(config, repos), {
      keepMonths: roles.api ? config.telemetryRetentionMonths : 0,
      intervalMs: RETENTION_INTERVAL_MS,
      logger: logger.child({ component: 'retention' }),
      now,
    });
    closers.push(() => retentionJob.stop());

    const metrics = createMetrics();
    const loadedHttp = await httpModules;
    let ingest: RunningIngest | undefined;
    if (roles.worker) {
      const ingestDeps = { config, database, repos, logger: logger.child({ component: 'ingest' }), metrics: metrics.ingest, now };
      ingest = config.mqttUrl
        ? await startExternalIngest({ ...ingestDeps, brokerUrl: config.mqttUrl })
        : await startEmbeddedIngest({
            ...ingestDeps,
            host: config.mqttHost,
            port: config.mqttPort,
            brokerLogger: logger.child({ component: 'broker' }),
          });
      const running = ingest;
      const ingestLogger = ingestDeps.logger;
      closers.push(async () => {
        await running.stop();
        // What this process did, for the operator (and the shutdown tests).
        ingestLogger.info({ ...running.counters }, 'ingest stopped');
      });
    }
    const broker = ingest?.broker;

    let app: FastifyInstance | undefined;
    let httpUrl: string | undefined;
    if (roles.api) {
      // Loaded only for the API: a worker-only process does not carry the HTTP stack (about 35 MB).
      const [{ buildApp }, { createLiveHub }, { departmentDirectory, startLiveSubscriber }] = loadedHttp!;
      const runningIngest = ingest;
      // The live feed listens to the live topics of this process's broker, or of MQTT_URL.
      const liveUrl = broker?.internalUrl ?? config.mqttUrl;
      let live: LiveHub | undefined;
      let liveSubscriber: LiveSubscriber | undefined;
      let liveSubscriberStart: Promise<LiveSubscriber> | undefined;
      if (liveUrl) {
        const liveLogger = logger.child({ component: 'live' });
        const hub = createLiveHub({ logger: liveLogger, registry: metrics.registry });
        closers.push(async () => hub.close());
        // Connected while the API is built and starts listening, not before: right after a
        // restart the broker is busy with every device reconnecting, and health checks and
        // snapshots need not wait behind them. Readiness says not ready until it is connected.
        const starting = startLiveSubscriber({
          url: liveUrl,
          hub,
          logger: liveLogger,
          isOurDepartment: departmentDirectory(async (id) => (await repos.departments.findById(id)) !== undefined),
        });
        liveSubscriberStart = starting;
        // A failure surfaces where it is awaited below; this keeps it from being unhandled meanwhile.
        starting.catch(() => undefined);
        closers.push(async () => (await starting.catch(() => undefined))?.close());
        live = hub;
      }
      const readiness = () => ({
        ...(runningIngest ? { mqtt: runningIngest.isReady() } : {}),
        ...(liveSubscriberStart ? { live: liveSubscriber?.isConnected() ?? false } : {}),
      });
      app = await buildApp({
        database,
        repos,
        services: domain,
        logger: logger.child({ component: 'http' }),
        now,
        metrics: metrics.registry,
        allowedOrigins: config.allowedOrigins,
        rateLimit: { perMinute: config.rateLimitPerMinute, failedAuthPerMinute: config.authFailuresPerMinute },
        http: config.http,
        trustProxy: config.trustProxy,
        ...(broker ? { onDeviceSecretChanged: (deviceId: string) => void broker.disconnectDevice(deviceId) } : {}),
        ...(runningIngest ? { onDeviceRegistered: () => runningIngest.devicesChanged() } : {}),
        ...(runningIngest ? { onGeofencesChanged: () => runningIngest.alerts.geofencesChanged() } : {}),
        ...(runningIngest ? { onAlertRulesChanged: () => runningIngest.alerts.alertRulesChanged() } : {}),
        readiness,
        ...(live ? { live } : {}),
      });
      const runningApp = app;
      closers.push(() => runningApp.close());
      if (options.listen === false) {
        await app.ready();
      } else {
        try {
          await app.listen({ host: config.httpHost, port: config.httpPort });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
            throw new PortInUseError('HTTP_PORT', config.httpPort, 'Set HTTP_PORT to a free port.');
          }
          throw err;
        }
        const address = app.server.address();
        const port = typeof address === 'object' && address ? address.port : config.httpPort;
        const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? '127.0.0.1' : config.httpHost;
        httpUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      }
      if (liveSubscriberStart) liveSubscriber = await liveSubscriberStart;
    }

    if (!roles.api && config.metricsPort !== undefined) {
      const { startOpsServer } = await import('./http/ops-server.js');
      const runningIngest = ingest;
      const ops = await startOpsServer({
        host: config.httpHost,
        port: config.metricsPort,
        registry: metrics.registry,
        readiness: async () => ({ database: await database.ping(), ...(runningIngest ? { mqtt: runningIngest.isReady() } : {}) }),
      }).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EADDRINUSE' ? new PortInUseError('METRICS_PORT', config.metricsPort!, 'Set METRICS_PORT to a free port.') : err;
      });
      closers.push(() => ops.close());
      httpUrl = ops.url;
      logger.info({ url: `${ops.url}/metrics` }, 'serving metrics');
    }

    const deviceMqttUrl = broker ? `mqtt://127.0.0.1:${broker.port}` : config.mqttUrl && withoutCredentials(config.mqttUrl);
    return { config, database, repos, domain, broker, deviceMqttUrl, ingest, rollups, settle, metrics, app, httpUrl, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}
