/**
 * The broker restarts in the middle of a stream (as an operator's `systemctl restart
 * mosquitto` or a container update does: SIGTERM, so Mosquitto saves its sessions and
 * queued messages, as deploy/mosquitto/mosquitto.conf has it). The ingest sessions
 * reconnect with backoff and resume their persistent sessions; trackers resend what the
 * broker had not acknowledged. Every reading must be stored exactly once, scored like
 * RabbitMQ's Jepsen checker. Once with one worker on the wildcard subscription, once
 * with two workers that split the devices (each its own session and topics).
 *
 * It fails as it should when the broker cannot keep its state: while the temporary
 * folder was not writable for Mosquitto's own user, 1,433 of 3,000 readings were lost.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchBroker, mosquittoAvailable } from '../../bench/mosquitto.js';
import { loadConfig } from '../../src/config.js';
import { telemetryTopic } from '../../src/domain/topics.js';
import { createRepositories } from '../../src/repositories/index.js';
import { startServices, type Services } from '../../src/runtime.js';
import { hashDeviceSecret } from '../../src/security/secrets.js';
import { scoreStream } from '../support/loss-checker.js';
import { waitFor } from '../support/service.js';
import { publishUntilAcknowledged } from '../support/tracker.js';
import { createTestDatabase, realPostgresConfigured, silentLogger, type TestDatabase } from '../support/stores.js';

const DEVICES = 12;
const READINGS_PER_DEVICE = 250;
const PUBLISH_EVERY_MS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const setups = [
  { name: 'one worker, wildcard subscription', workers: 1 },
  { name: 'two workers splitting the devices', workers: 2 },
];

describe.skipIf(!realPostgresConfigured() || !mosquittoAvailable()).each(setups)(
  'ingest across a broker restart ($name)',
  ({ workers }) => {
    let testDb: TestDatabase;
    let broker: BenchBroker;
    const services: Services[] = [];
    const deviceIds: string[] = [];

    beforeAll(async () => {
      testDb = await createTestDatabase();
      broker = await BenchBroker.start({ maxInflightMessages: 1000, maxQueuedMessages: 1_000_000, source: 'test', persistence: true });
      const repos = createRepositories(testDb.database);
      const dep = await repos.departments.create({ code: `R${randomBytes(2).toString('hex')}`, name: 'Restart' });
      for (let i = 0; i < DEVICES; i++) {
        const vehicle = await repos.vehicles.create({
          plateNumber: `DH R${i} ${randomBytes(2).toString('hex')}`,
          departmentId: dep.id,
          kind: 'car',
          fuelType: 'pertalite',
          tankCapacityLitres: 50,
          ratedLitresPer100Km: 9,
          idleLitresPerHour: 0.8,
          monthlyAllocationLitres: 200,
        });
        const id = `restart-${i}-${randomBytes(2).toString('hex')}`;
        await repos.devices.create({ id, vehicleId: vehicle.id, protocol: 'armada', secretHash: hashDeviceSecret('unused') });
        deviceIds.push(id);
      }
      const run = randomBytes(3).toString('hex');
      for (let index = 0; index < workers; index++) {
        services.push(
          await startServices(
            loadConfig({
              DATABASE_URL: testDb.url!,
              MQTT_URL: broker.url,
              WORKER_ID: `restart-${run}-${index}`,
              WORKER_COUNT: String(workers),
              WORKER_INDEX: String(index),
              INGEST_BATCH_WAIT_MS: '10',
            }),
            { api: false, worker: true },
            { logger: silentLogger, database: testDb.database },
          ),
        );
      }
    });

    afterAll(async () => {
      for (const s of services) await s.close().catch(() => undefined);
      await broker?.stop();
      await testDb?.drop();
    });

    it('stores every acknowledged reading exactly once', async () => {
      const clients = await Promise.all(
        deviceIds.map((id) =>
          mqtt.connectAsync(broker.url, {
            clientId: id,
            username: id,
            protocolVersion: 4,
            reconnectPeriod: 200,
            reconnectOnConnackError: true,
          }),
        ),
      );
      const baseMs = Date.now() - 3_600_000;
      const published: string[] = [];
      const acknowledged: Array<Promise<unknown>> = [];
      const publishing = (async () => {
        for (let seq = 1; seq <= READINGS_PER_DEVICE; seq++) {
          deviceIds.forEach((id, i) => {
            const reading = {
              ts: new Date(baseMs + seq * 1000).toISOString(),
              lat: -10.17 - i * 1e-3,
              lon: 123.6 + seq * 1e-5,
              speedKmh: 20,
              seq,
            };
            published.push(`${id}:${seq}`);
            acknowledged.push(publishUntilAcknowledged(clients[i]!, telemetryTopic(id), JSON.stringify(reading)));
          });
          await sleep(PUBLISH_EVERY_MS);
        }
      })();
      // Twice, mid-stream: once straight back, once after a second away.
      const storedCount = async () =>
        Number((await testDb.database.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry'))[0]!.n);
      let storedAtFirstRestart = -1;
      const restarts = (async () => {
        await sleep(700);
        storedAtFirstRestart = await storedCount();
        await broker.restart();
        await sleep(900);
        await broker.restart(1000);
      })();
      await Promise.all([publishing, restarts]);
      await Promise.all(acknowledged);

      const expected = DEVICES * READINGS_PER_DEVICE;
      // The first restart came while the stream was flowing through the workers.
      expect(storedAtFirstRestart).toBeGreaterThan(0);
      expect(storedAtFirstRestart).toBeLessThan(expected / 2);
      const stored = async () =>
        (await testDb.database.query<{ key: string }>(`SELECT device_id || ':' || seq AS key FROM telemetry`)).map((r) => r.key);
      await waitFor(async () => (await stored()).length >= expected, `all ${expected} readings stored`, 30_000).catch(
        async (err: Error) => {
          const report = scoreStream(published, await stored());
          throw new Error(`${err.message}: ${JSON.stringify(report)}\nbroker log:\n${broker.output.slice(-2000)}`);
        },
      );
      for (const s of services) await s.ingest!.idle();
      const report = scoreStream(published, await stored());
      expect(report, broker.output.slice(-2000)).toMatchObject({
        published: expected,
        stored: expected,
        lost: 0,
        duplicated: 0,
        unexpected: 0,
      });
      await Promise.all(clients.map((c) => c.endAsync()));
    }, 120_000);
  },
);
