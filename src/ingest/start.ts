/**
 * Starts ingest in one of its two shapes:
 *
 *  - external broker (MQTT_URL): the worker's own persistent MQTT session subscribes to
 *    the telemetry topics and sends PUBACKs after commit; a failed commit reconnects,
 *    so the broker redelivers what was not acknowledged;
 *  - embedded broker: aedes hands each device's message to the worker and holds the
 *    device's PUBACK until its batch is committed.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded.js';
import { OWNTRACKS_SUBSCRIPTION, TELEMETRY_SUBSCRIPTION } from '../domain/topics.js';
import type { IngestMetrics } from '../metrics.js';
import type { Repositories } from '../repositories/index.js';
import { telemetryWriter } from '../repositories/telemetry.js';
import { BrokerSession, type SessionMessage } from './broker-session.js';
import { cachedDeviceLookup } from './device-cache.js';
import { createPipeline, type RawMessage } from './pipeline.js';
import { createIngestWorker, type IngestCounters } from './worker.js';

export interface RunningIngest {
  readonly counters: IngestCounters;
  /** Set when this process runs the embedded broker. */
  readonly broker: EmbeddedBroker | undefined;
  /** Connected to the broker and able to take messages. */
  isReady(): boolean;
  /** Resolves when everything received so far is committed. */
  idle(): Promise<void>;
  /** Commits and acknowledges what it holds, then disconnects. */
  stop(): Promise<void>;
}

interface IngestDeps {
  config: Config;
  database: Database;
  repos: Repositories;
  logger: Logger;
  metrics: IngestMetrics;
}

function workerSettings(deps: IngestDeps) {
  const { config, database, repos, logger, metrics } = deps;
  return {
    pipeline: createPipeline({
      lookupDevice: cachedDeviceLookup((id) => repos.devices.findIdentity(id)),
      settings: { maxFutureS: config.maxFutureS, maxAgeDays: config.maxAgeDays, maxImpliedSpeedKmh: config.maxImpliedSpeedKmh },
    }),
    writer: telemetryWriter(database, { reportTz: config.reportTz }),
    logger,
    metrics,
    batchSize: config.ingestBatchSize,
    batchWaitMs: config.ingestBatchWaitMs,
    // PGlite is one connection: a second concurrent batch would only queue behind the first.
    concurrency: database.kind === 'postgres' ? config.ingestConcurrency : 1,
  };
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

export async function startExternalIngest(deps: IngestDeps & { brokerUrl: string }): Promise<RunningIngest> {
  let session: BrokerSession | undefined;
  let databaseBack: Promise<void> | undefined;
  const worker = createIngestWorker<SessionMessage>({
    ...workerSettings(deps),
    source: {
      committed: (messages) => session!.acknowledge(messages),
      failed: (messages) => {
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
    subscriptions: [TELEMETRY_SUBSCRIPTION, OWNTRACKS_SUBSCRIPTION],
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
  return {
    counters: worker.counters,
    broker: undefined,
    isReady: () => running.isReady,
    idle: () => worker.idle(),
    async stop() {
      await worker.stop();
      await running.close();
    },
  };
}

type HeldMessage = RawMessage & { settle(err?: Error): void };

export async function startEmbeddedIngest(deps: IngestDeps & { host: string; port: number; brokerLogger: Logger }): Promise<RunningIngest> {
  let broker: EmbeddedBroker | undefined;
  const worker = createIngestWorker<HeldMessage>({
    ...workerSettings(deps),
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
    findDevice: (id) => deps.repos.devices.findIdentity(id),
    ingest: (message) =>
      new Promise<void>((resolve, reject) => worker.accept({ ...message, settle: (err) => (err ? reject(err) : resolve()) })),
  });
  const running = broker;
  return {
    counters: worker.counters,
    broker: running,
    isReady: () => true,
    idle: () => worker.idle(),
    async stop() {
      await worker.stop();
      await running.close();
    },
  };
}
