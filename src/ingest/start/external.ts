/**
 * Ingest from an external broker (MQTT_URL): the worker's own persistent MQTT session
 * subscribes to the telemetry topics and sends PUBACKs after commit; a failed commit
 * reconnects, so the broker redelivers what was not acknowledged.
 */
import { LEGACY_OWNTRACKS_SUBSCRIPTION, OWNTRACKS_SUBSCRIPTION, TELEMETRY_SUBSCRIPTION } from '../../domain/topics.js';
import { BrokerSession, type SessionMessage } from '../broker-session.js';
import type { Partition } from '../partition.js';
import { createIngestWorker } from '../worker.js';
import { alertEngine } from './alerts.js';
import type { IngestDeps, RunningIngest } from './deps.js';
import { loadOwnedTopics, partitionRefresher } from './partition-refresher.js';
import { quarantineRetention } from './quarantine-retention.js';
import { waitForDatabase } from './wait-for-database.js';
import { workerSettings } from './worker-settings.js';

export async function startExternalIngest(deps: IngestDeps & { brokerUrl: string }): Promise<RunningIngest> {
  const { workerCount, workerIndex } = deps.config;
  // Several workers split the devices; one worker may still subscribe device by device.
  const partition: Partition | undefined =
    workerCount > 1 || deps.config.ingestSubscriptions === 'per-device' ? { index: workerIndex, count: workerCount } : undefined;
  const shared = deps.config.ingestSubscriptions === 'shared';
  const sharedFilters = [TELEMETRY_SUBSCRIPTION, OWNTRACKS_SUBSCRIPTION].map((f) => `$share/${deps.config.ingestShareGroup}/${f}`);
  let subscriptions = shared ? sharedFilters : [TELEMETRY_SUBSCRIPTION, OWNTRACKS_SUBSCRIPTION];
  if (shared) {
    deps.logger.info(
      { group: deps.config.ingestShareGroup },
      'ingest: a member of a shared subscription group; the broker spreads the messages',
    );
  } else if (partition) {
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
  const settings = workerSettings(deps);
  await settings.writer.start();
  const worker = createIngestWorker<SessionMessage>({
    ...settings,
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
  // Switching between plain wildcards and a shared group: the session's subscriptions of the
  // other kind would deliver the same messages a second time.
  if (!partition) {
    const stale = shared
      ? [TELEMETRY_SUBSCRIPTION, OWNTRACKS_SUBSCRIPTION, LEGACY_OWNTRACKS_SUBSCRIPTION]
      : [LEGACY_OWNTRACKS_SUBSCRIPTION, ...sharedFilters];
    await running.unsubscribe(stale, { alsoUnknown: true }).catch((err: Error) => {
      deps.logger.warn(
        { err: err.message },
        'could not drop subscriptions of an earlier mode; their messages may come twice (stored once)',
      );
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
      await settings.writer.flush().catch(() => undefined);
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
      await settings.writer.stop();
      await alerts.stop();
      await running.close();
    },
  };
}
