/**
 * Starts ingest in one of its two shapes:
 *
 *  - external broker (MQTT_URL): the worker's own persistent MQTT session subscribes to
 *    the telemetry topics and sends PUBACKs after commit; a failed commit reconnects,
 *    so the broker redelivers what was not acknowledged;
 *  - embedded broker: aedes hands each device's message to the worker and holds the
 *    device's PUBACK until its batch is committed.
 *
 * With WORKER_COUNT > 1 (external broker only) this worker subscribes not to the
 * wildcards but to the exact topics of the devices it owns (./partition.ts), read from
 * the devices table at start and again every DEVICE_REFRESH_MS (docs/scale-out.md).
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded.js';
import { LEGACY_OWNTRACKS_SUBSCRIPTION, OWNTRACKS_SUBSCRIPTION, TELEMETRY_SUBSCRIPTION } from '../domain/topics.js';
import type { IngestMetrics } from '../metrics.js';
import type { Repositories } from '../repositories/index.js';
import { telemetryWriter } from '../repositories/telemetry.js';
import { createAlertEngine, type AlertEngine } from '../alerts/engine.js';
import { BrokerSession, type SessionMessage } from './broker-session.js';
import { cachedDeviceLookup } from './device-cache.js';
import { ownedTopics, type Partition } from './partition.js';
import { createPipeline, type Pipeline, type PipelineSettings, type RawMessage } from './pipeline.js';
import { createQuarantineCap, startQuarantineRetention } from './quarantine-limits.js';
import { createIngestWorker, type IngestCounters } from './worker.js';

const RETENTION_INTERVAL_MS = 3_600_000;

/**
 * The quarantine's retention, run by the first worker only (the others would delete the
 * same rows). The settings are shown as gauges in /metrics.
 */
function quarantineRetention(deps: IngestDeps) {
  const { config, metrics } = deps;
  metrics.quarantineRetentionDays.set(config.quarantineRetentionDays);
  metrics.quarantineDeviceCap.set(config.quarantineDeviceCap);
  if (config.workerIndex !== 0) return undefined;
  return startQuarantineRetention({
    expire: (days) => deps.repos.quarantine.expire(days),
    retentionDays: config.quarantineRetentionDays,
    intervalMs: RETENTION_INTERVAL_MS,
    logger: deps.logger,
    metrics,
  });
}

export interface RunningIngest {
  readonly counters: IngestCounters;
  /** Judges committed readings and reports silent devices. */
  readonly alerts: AlertEngine;
  /** Set when this process runs the embedded broker. */
  readonly broker: EmbeddedBroker | undefined;
  /** Connected to the broker and able to take messages. */
  isReady(): boolean;
  /** Resolves when everything received so far is committed. */
  idle(): Promise<void>;
  /**
   * The devices table changed (a device was registered here): with per-device
   * subscriptions the session subscribes to the new topics now, not at the next refresh.
   * Resolves once the broker has granted them.
   */
  devicesChanged(): Promise<void>;
  /** Deletes the quarantine rows older than the retention now (as the hourly run does); answers how many. */
  expireQuarantine(): Promise<number>;
  /** Commits and acknowledges what it holds, then disconnects. */
  stop(): Promise<void>;
}

interface IngestDeps {
  config: Config;
  database: Database;
  repos: Repositories;
  logger: Logger;
  metrics: IngestMetrics;
  /** The clock of the alert engine's periodic checks (tests move it); default the system's. */
  now?: () => Date;
}

/** How long the worker trusts the retention horizon it read before reading it again. */
export const RETENTION_HORIZON_REFRESH_MS = 60_000;

/**
 * The pipeline with the retention horizon (src/ops/retention.ts) kept current in its
 * settings: read before the first batch, again before a batch once it is a minute old,
 * and after any failed batch (a drop the worker had not yet seen makes the database
 * refuse the reading's partition; read again, the horizon quarantines it instead).
 * A failed read fails the batch, which is redelivered.
 */
function withRetentionHorizon(pipeline: Pipeline, settings: PipelineSettings, load: () => Promise<number | undefined>): Pipeline {
  let loadedAt: number | undefined;
  return Object.assign(
    async (messages: readonly RawMessage[]) => {
      if (loadedAt === undefined || performance.now() - loadedAt > RETENTION_HORIZON_REFRESH_MS) {
        settings.keptFromMs = await load();
        loadedAt = performance.now();
      }
      return pipeline(messages);
    },
    {
      forget(): void {
        pipeline.forget?.();
        loadedAt = undefined;
      },
    },
  );
}

function workerSettings(deps: IngestDeps) {
  const { config, database, repos, logger, metrics } = deps;
  const settings: PipelineSettings = {
    maxFutureS: config.maxFutureS,
    maxAgeDays: config.maxAgeDays,
    maxImpliedSpeedKmh: config.maxImpliedSpeedKmh,
  };
  return {
    pipeline: withRetentionHorizon(
      createPipeline({
        lookupDevice: cachedDeviceLookup((id) => repos.devices.findIdentity(id), { loadAll: () => repos.devices.allIdentities() }),
        settings,
        loadNewestFixes: async () =>
          (await repos.positions.newestFixes()).map((f) => [f.vehicleId, { fixAtMs: f.fixAtMs, lat: f.lat, lon: f.lon }] as const),
      }),
      settings,
      () => repos.retention.keptFromMs(),
    ),
    writer: telemetryWriter(database, { reportTz: config.reportTz }),
    logger,
    metrics,
    batchSize: config.ingestBatchSize,
    batchWaitMs: config.ingestBatchWaitMs,
    poisonAttempts: config.ingestPoisonAttempts,
    quarantineCap: createQuarantineCap({ cap: config.quarantineDeviceCap, periodMs: config.quarantineCapPeriodMin * 60_000 }, metrics),
    databaseAnswers: () => database.ping(),
    // PGlite is one connection: a second concurrent batch would only queue behind the first.
    concurrency: database.kind === 'postgres' ? config.ingestConcurrency : 1,
  };
}

function alertEngine(deps: IngestDeps, publish: (topic: string, payload: string) => void): AlertEngine {
  const { config } = deps;
  return createAlertEngine({
    repos: deps.repos,
    rules: {
      reportTz: config.reportTz,
      speedLimitKmh: config.speedLimitKmh,
      workingHours: config.analytics.workingHours,
      lowBatteryV: config.lowBatteryV,
    },
    publish,
    logger: deps.logger.child({ component: 'alerts' }),
    silentAfterS: config.deviceSilentAfterS,
    ...(deps.now ? { now: () => deps.now!().getTime() } : {}),
  });
}

/** Resolves once the database answers a trivial query, asking with growing pauses. */
export async function waitForDatabase(database: Pick<Database, 'ping'>, logger: Logger, maxPauseMs = 5000): Promise<void> {
  let pauseMs = 250;
  for (let attempt = 1; ; attempt++) {
    if (await database.ping()) {
      if (attempt > 1) logger.info({ attempts: attempt }, 'database answers again; resuming ingest');
      return;
    }
    if (attempt === 1) logger.warn('database does not answer; ingest waits, the broker keeps the messages');
    await new Promise((r) => setTimeout(r, pauseMs).unref());
    pauseMs = Math.min(pauseMs * 2, maxPauseMs);
  }
}

/** The telemetry topics of the devices this worker owns, from the devices table. */
export async function loadOwnedTopics(repos: Pick<Repositories, 'devices'>, partition: Partition): Promise<string[]> {
  return ownedTopics(await repos.devices.protocols(), partition);
}

/**
 * Keeps the session subscribed to exactly the owned devices' topics: new devices are
 * added, devices that disappeared from the table are dropped. A refresh that fails
 * (database away) changes nothing and is tried again at the next tick.
 */
function partitionRefresher(deps: IngestDeps, session: BrokerSession, partition: Partition) {
  const { logger } = deps;
  let running: Promise<void> | undefined;
  async function refresh(): Promise<void> {
    const wanted = await loadOwnedTopics(deps.repos, partition);
    const current = new Set(session.subscriptions);
    const wantedSet = new Set(wanted);
    const added = wanted.filter((t) => !current.has(t));
    const removed = [...current].filter((t) => !wantedSet.has(t));
    if (added.length > 0) {
      await session.subscribe(added);
      // Operators wait for this line (with the device's topic) before letting a new device connect.
      logger.info(
        {
          workerIndex: partition.index,
          added: added.length,
          owned: wanted.length,
          topics: added.slice(0, 1000),
          ...(added.length > 1000 ? { truncated: true } : {}),
        },
        'subscribed to the topics of new devices',
      );
    }
    if (removed.length > 0) {
      await session.unsubscribe(removed);
      logger.info(
        { workerIndex: partition.index, removed: removed.length, owned: wanted.length },
        'unsubscribed from the topics of removed devices',
      );
    }
  }
  /** One refresh at a time; a caller that arrives during one waits for the next, which sees its change. */
  let queued: Promise<void> | undefined;
  function refreshNow(): Promise<void> {
    queued ??= (running ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        running = refresh().finally(() => (running = undefined));
        return running;
      });
    return queued;
  }
  const timer = setInterval(() => {
    if (running || queued) return;
    refreshNow().catch((err: Error) => logger.warn({ err: err.message }, 'device list refresh failed; trying again at the next tick'));
  }, deps.config.deviceRefreshMs);
  timer.unref();
  return {
    refreshNow,
    async stop(): Promise<void> {
      clearInterval(timer);
      await queued?.catch(() => undefined);
      await running?.catch(() => undefined);
    },
  };
}

export async function startExternalIngest(deps: IngestDeps & { brokerUrl: string }): Promise<RunningIngest> {
  const { workerCount, workerIndex } = deps.config;
  // Several workers split the devices; one worker may still subscribe device by device.
  const partition: Partition | undefined =
    workerCount > 1 || deps.config.ingestSubscriptions === 'per-device' ? { index: workerIndex, count: workerCount } : undefined;
  let subscriptions = [TELEMETRY_SUBSCRIPTION, OWNTRACKS_SUBSCRIPTION];
  if (partition) {
    subscriptions = await loadOwnedTopics(deps.repos, partition);
    deps.logger.info(
      { workerIndex, workerCount, owned: subscriptions.length, refreshMs: deps.config.deviceRefreshMs },
      'ingest partition: subscribing to the topics of the devices this worker owns',
    );
  }
  let session: BrokerSession | undefined;
  let databaseBack: Promise<void> | undefined;
  /** Set by stop(): what arrives from now on is left unacknowledged for the next session. */
  let stopping = false;
  const alerts = alertEngine(deps, (topic, payload) => session?.publish(topic, payload));
  const worker = createIngestWorker<SessionMessage>({
    ...workerSettings(deps),
    onCommitted: alerts.onCommitted,
    source: {
      committed: (messages) => session!.acknowledge(messages),
      failed: (messages) => {
        // While stopping, a message the worker no longer takes simply stays unacknowledged:
        // the broker keeps it in this persistent session. Reconnecting here would drop the
        // socket before the batches being committed are acknowledged, and their messages
        // would come back as duplicates.
        if (stopping) return;
        // The broker resends everything unacknowledged after a reconnect; what this
        // connection delivered and we still hold would only be stored twice. Until the
        // database answers again, the messages are safer at the broker than here.
        const connection = messages[0]?.connection;
        worker.drop((m) => m.connection === connection);
        databaseBack ??= waitForDatabase(deps.database, deps.logger).finally(() => (databaseBack = undefined));
        session!.reconnect('a batch could not be committed', databaseBack);
      },
      pause: () => session!.pause(),
      resume: () => session!.resume(),
    },
    live: { publish: (topic, payload) => session!.publish(topic, payload) },
  });
  session = new BrokerSession({
    url: deps.brokerUrl,
    clientId: `armada-ingest-${deps.config.workerId}`,
    subscriptions,
    clean: false,
    logger: deps.logger,
    onMessage: (m) => worker.accept(m),
  });
  const running = session;
  running.on('disconnected', () => worker.drop(() => true));
  running.start();
  try {
    await running.waitReady();
  } catch (err) {
    await running.close();
    throw err;
  }
  // Subscriptions the broker remembers for this session from a run with another worker
  // count are left alone: dropping them before the new owners have subscribed would leave
  // those devices with no subscriber (docs/scale-out.md, changing WORKER_COUNT). Whatever
  // they deliver is stored; a second copy is skipped by the primary key.
  // Earlier versions subscribed to owntracks/+/+; with owntracks/# as well, the broker would
  // deliver those messages twice. Not while partitioned: those subscriptions are per device.
  if (!partition) {
    await running.unsubscribe([LEGACY_OWNTRACKS_SUBSCRIPTION], { alsoUnknown: true }).catch((err: Error) => {
      deps.logger.warn({ err: err.message }, 'could not drop the old OwnTracks subscription; its messages may come twice (stored once)');
    });
  }
  const refresher = partition ? partitionRefresher(deps, running, partition) : undefined;
  const retention = quarantineRetention(deps);
  return {
    counters: worker.counters,
    alerts,
    broker: undefined,
    isReady: () => running.isReady,
    expireQuarantine: () => retention?.runNow() ?? Promise.resolve(0),
    devicesChanged: () => refresher?.refreshNow() ?? Promise.resolve(),
    idle: async () => {
      await worker.idle();
      await alerts.idle();
    },
    async stop() {
      // The worker takes nothing more; what still arrives is left unacknowledged (the broker
      // sends at most its in-flight window). The session keeps reading, so pings are
      // answered during a long drain and DISCONNECT closes at once; the batches in hand are
      // committed and acknowledged first.
      stopping = true;
      await refresher?.stop().catch(() => undefined);
      await retention?.stop();
      await worker.stop();
      await alerts.stop();
      await running.close();
    },
  };
}

type HeldMessage = RawMessage & { settle(err?: Error): void };

export async function startEmbeddedIngest(deps: IngestDeps & { host: string; port: number; brokerLogger: Logger }): Promise<RunningIngest> {
  let broker: EmbeddedBroker | undefined;
  const alerts = alertEngine(deps, (topic, payload) => broker?.publish(topic, payload));
  const worker = createIngestWorker<HeldMessage>({
    ...workerSettings(deps),
    onCommitted: alerts.onCommitted,
    source: {
      committed: (messages) => messages.forEach((m) => m.settle()),
      failed: (messages, err) => messages.forEach((m) => m.settle(err)),
      // Each device waits for its own PUBACK before the next message: the devices hold the backlog.
      pause: () => undefined,
      resume: () => undefined,
    },
    live: { publish: (topic, payload) => broker?.publish(topic, payload) },
  });
  broker = await startEmbeddedBroker({
    host: deps.host,
    port: deps.port,
    logger: deps.brokerLogger,
    findDevice: (username) => deps.repos.devices.findIdentityByUsername(username),
    limits: deps.config.embeddedBroker,
    ingest: (message) =>
      new Promise<void>((resolve, reject) => worker.accept({ ...message, settle: (err) => (err ? reject(err) : resolve()) })),
  });
  const running = broker;
  const retention = quarantineRetention(deps);
  return {
    counters: worker.counters,
    alerts,
    broker: running,
    isReady: () => true,
    expireQuarantine: () => retention?.runNow() ?? Promise.resolve(0),
    // The embedded broker hands every publish to the worker: nothing to subscribe.
    devicesChanged: () => Promise.resolve(),
    idle: async () => {
      await worker.idle();
      await alerts.idle();
    },
    async stop() {
      await retention?.stop();
      await worker.stop();
      await alerts.stop();
      await running.close();
    },
  };
}
