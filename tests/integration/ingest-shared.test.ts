/**
 * Two ingest workers in one shared subscription group (INGEST_SUBSCRIPTIONS=shared,
 * `$share/<group>/…`), against a real Mosquitto: the broker spreads the messages over
 * both, every reading is stored exactly once, and the state written behind the readings
 * comes out whole although each device's readings went to both workers: every device
 * counted each of its readings once, every vehicle's latest position is its newest.
 *
 * Mosquitto hands a group's messages out in turn, so here a vehicle's readings are split
 * between the workers; a broker that keeps each topic with one member (EMQX's
 * `hash_topic`, as deploy/emqx sets) is what the per-vehicle alert state needs
 * (docs/scale-out.md). What a killed member held is another matter of the broker's
 * (bench/shared-subscriptions.ts).
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchBroker, mosquittoAvailable } from '../../bench/mosquitto.js';
import { loadConfig } from '../../src/config.js';
import { telemetryTopic } from '../../src/domain/topics.js';
import { startServices, type Services } from '../../src/runtime.js';
import { scoreStream } from '../support/loss-checker.js';
import { seedStreamDevices } from '../support/seed-devices.js';
import { waitFor } from '../support/service.js';
import { createTestDatabase, realPostgresConfigured, silentLogger, type TestDatabase } from '../support/stores.js';
import { publishUntilAcknowledged } from '../support/tracker.js';

const DEVICES = 12;
const READINGS_PER_DEVICE = 150;

describe.skipIf(!realPostgresConfigured() || !mosquittoAvailable())('two workers in a shared subscription group', () => {
  let testDb: TestDatabase;
  let broker: BenchBroker;
  const services: Services[] = [];
  const deviceIds: string[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    broker = await BenchBroker.start({ maxInflightMessages: 1000, maxQueuedMessages: 1_000_000, source: 'test' });
    deviceIds.push(...(await seedStreamDevices(testDb, DEVICES, `shared-${randomBytes(2).toString('hex')}`)));
    const run = randomBytes(3).toString('hex');
    for (let index = 0; index < 2; index++) {
      services.push(
        await startServices(
          loadConfig({
            DATABASE_URL: testDb.url!,
            MQTT_URL: broker.url,
            WORKER_ID: `shared-${run}-${index}`,
            INGEST_SUBSCRIPTIONS: 'shared',
            INGEST_SHARE_GROUP: `test-${run}`,
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

  it('stores every reading once, split between the workers, and counts each device whole', async () => {
    const clients = await Promise.all(
      deviceIds.map((id) => mqtt.connectAsync(broker.url, { clientId: id, username: id, protocolVersion: 4, reconnectPeriod: 200 })),
    );
    const baseMs = Date.now() - 3_600_000;
    const published: string[] = [];
    const acknowledged: Array<Promise<unknown>> = [];
    for (let seq = 1; seq <= READINGS_PER_DEVICE; seq++) {
      deviceIds.forEach((id, i) => {
        const reading = { ts: new Date(baseMs + seq * 1000).toISOString(), lat: -10.17 - i * 1e-3, lon: 123.6 + seq * 1e-5, seq };
        published.push(`${id}:${seq}`);
        acknowledged.push(publishUntilAcknowledged(clients[i]!, telemetryTopic(id), JSON.stringify(reading)));
      });
      if (seq % 10 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(acknowledged);
    await Promise.all(clients.map((c) => c.endAsync()));
    const storedKeys = async () =>
      (await testDb.database.query<{ k: string }>(`SELECT device_id || ':' || seq AS k FROM telemetry`)).map((r) => r.k);
    await waitFor(async () => (await storedKeys()).length >= published.length, 'every reading stored', 60_000);
    for (const s of services) await s.ingest!.idle();

    const report = scoreStream(published, await storedKeys());
    expect({ lost: report.lost, duplicated: report.duplicated, unexpected: report.unexpected }).toEqual({
      lost: 0,
      duplicated: 0,
      unexpected: 0,
    });
    const storedBy = services.map((s) => s.ingest!.counters.stored);
    expect(storedBy[0]! + storedBy[1]!).toBe(DEVICES * READINGS_PER_DEVICE);
    for (const n of storedBy) expect(n).toBeGreaterThan(0);
    // Each message went to one member: with plain wildcards both would get (and skip) it all.
    expect(services.map((s) => s.ingest!.counters.received).reduce((a, b) => a + b)).toBe(DEVICES * READINGS_PER_DEVICE);
    expect(services.map((s) => s.ingest!.counters.duplicates)).toEqual([0, 0]);

    const state = await testDb.database.query<{ seq_first: number; seq_max: number; seq_received: number; latest_is_newest: boolean }>(
      `SELECT d.seq_first::int, d.seq_max::int, d.seq_received::int, coalesce(l.fix_at = t.newest, false) AS latest_is_newest
         FROM devices d
         LEFT JOIN vehicle_latest l ON l.vehicle_id = d.vehicle_id
         LEFT JOIN (SELECT vehicle_id, max(fix_at) AS newest FROM telemetry GROUP BY vehicle_id) t ON t.vehicle_id = d.vehicle_id
        WHERE d.id = ANY($1)`,
      [deviceIds],
    );
    expect(state).toHaveLength(DEVICES);
    for (const d of state) {
      expect(d).toEqual({ seq_first: 1, seq_max: READINGS_PER_DEVICE, seq_received: READINGS_PER_DEVICE, latest_is_newest: true });
    }
  }, 120_000);
});
