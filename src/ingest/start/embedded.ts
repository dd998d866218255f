/**
 * Ingest with the embedded broker (no MQTT_URL): aedes hands each device's message to the
 * worker and holds the device's PUBACK until its batch is committed.
 */
import type { Logger } from 'pino';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../broker/embedded.js';
import type { RawMessage } from '../pipeline.js';
import { createIngestWorker } from '../worker.js';
import { alertEngine } from './alerts.js';
import type { IngestDeps, RunningIngest } from './deps.js';
import { quarantineRetention } from './quarantine-retention.js';
import { workerSettings } from './worker-settings.js';

type HeldMessage = RawMessage & { settle(err?: Error): void };

export async function startEmbeddedIngest(deps: IngestDeps & { host: string; port: number; brokerLogger: Logger }): Promise<RunningIngest> {
  let broker: EmbeddedBroker | undefined;
  const alerts = alertEngine(deps, (topic, payload) => broker?.publish(topic, payload));
  const settings = workerSettings(deps);
  await settings.writer.start();
  const worker = createIngestWorker<HeldMessage>({
    ...settings,
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
      await settings.writer.flush().catch(() => undefined);
      await alerts.idle();
    },
    async stop() {
      await retention?.stop();
      await worker.stop();
      await settings.writer.stop();
      await alerts.stop();
      await running.close();
    },
  };
}
