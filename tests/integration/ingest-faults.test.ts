/**
 * Ingest while PostgreSQL misbehaves: its connections frozen, cut, and the server gone
 * for a while, in the middle of a stream. Every reading the devices sent must be stored
 * exactly once when the database is back. Needs a real PostgreSQL (a TCP proxy the test
 * controls sits in front of it); runs once with a real Mosquitto and once with the
 * embedded broker, whose device PUBACKs wait for the commit. While the database is
 * frozen the worker must acknowledge nothing and hold no more than a bounded number of
 * messages (backpressure), the rest waiting at the broker or on the devices.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchBroker, mosquittoAvailable } from '../../bench/mosquitto.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';
import { telemetryTopic } from '../../src/domain/topics.js';
import { startServices, type Services } from '../../src/runtime.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../src/security/secrets.js';
import { waitFor } from '../support/service.js';
import { publishUntilAcknowledged } from '../support/tracker.js';
import { createTestDatabase, realPostgresConfigured, silentLogger, type TestDatabase } from '../support/stores.js';
import { MqttTap } from '../support/mqtt-tap.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const DEVICES = 10;
const READINGS_PER_DEVICE = 300;
const PUBLISH_EVERY_MS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const brokers = (['mosquitto', 'embedded'] as const).filter((b) => b === 'embedded' || mosquittoAvailable());

interface Device {
  id: string;
  secret: string;
  vehicleId: string;
}

/**
 * Armada's worker on a database reached through a TCP proxy the test controls, with a
 * private Mosquitto (or the embedded broker), and DEVICES registered devices. With `tap`
 * the worker's MQTT session goes through an MqttTap, which counts its PUBACKs.
 */
interface Rig {
  testDb: TestDatabase;
  proxy: TcpProxy;
  services: Services;
  devices: Device[];
  mosquitto: BenchBroker | undefined;
  tap: MqttTap | undefined;
  /** Where devices connect. */
  brokerUrl: string;
  close(): Promise<void>;
}

async function startRig(
  brokerKind: (typeof brokers)[number],
  options: { env?: Record<string, string>; maxInflightMessages?: number; tap?: boolean } = {},
): Promise<Rig> {
  const testDb = await createTestDatabase();
  const target = new URL(testDb.url!);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  await proxy.start();
  const viaProxy = new URL(testDb.url!);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const proxied = await openDatabase({ kind: 'postgres', url: viaProxy.toString(), logger: silentLogger });
  const mosquitto =
    brokerKind === 'mosquitto'
      ? await BenchBroker.start({ maxInflightMessages: options.maxInflightMessages ?? 1000, maxQueuedMessages: 1_000_000, source: 'test' })
      : undefined;
  const tap = mosquitto && options.tap ? new MqttTap('127.0.0.1', mosquitto.port) : undefined;
  await tap?.start();
  const workerUrl = tap?.url ?? mosquitto?.url;
  const services = await startServices(
    loadConfig({
      HTTP_PORT: '0',
      MQTT_PORT: '0',
      WORKER_ID: `faults-${randomBytes(3).toString('hex')}`,
      INGEST_BATCH_WAIT_MS: '10',
      ...(workerUrl ? { MQTT_URL: workerUrl } : {}),
      ...options.env,
    }),
    { api: false, worker: true },
    { logger: silentLogger, database: proxied },
  );
  const repos = services.repos;
  const dep = await repos.departments.create({ code: `F${randomBytes(2).toString('hex')}`, name: 'Faults' });
  const devices: Device[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const vehicle = await repos.vehicles.create({
      plateNumber: `DH F${i} ${randomBytes(2).toString('hex')}`,
      departmentId: dep.id,
      kind: 'car',
      fuelType: 'pertalite',
      tankCapacityLitres: 50,
      ratedLitresPer100Km: 9,
      idleLitresPerHour: 0.8,
      monthlyAllocationLitres: 200,
    });
    const secret = generateDeviceSecret();
    const id = `fault-${i}-${randomBytes(2).toString('hex')}`;
    await repos.devices.create({ id, vehicleId: vehicle.id, protocol: 'armada', secretHash: hashDeviceSecret(secret) });
    devices.push({ id, secret, vehicleId: vehicle.id });
  }
  return {
    testDb,
    proxy,
    services,
    devices,
    mosquitto,
    tap,
    brokerUrl: mosquitto?.url ?? services.deviceMqttUrl!,
    async close() {
      proxy.thaw();
      await services.close();
      await proxied.close();
      await proxy.stop();
      await tap?.stop();
      await mosquitto?.stop();
      await testDb.drop();
    },
  };
}

describe.skipIf(!realPostgresConfigured()).each(brokers)('ingest through PostgreSQL faults (%s broker)', (brokerKind) => {
  let rig: Rig;
  let testDb: TestDatabase;
  let proxy: TcpProxy;
  let services: Services;
  let devices: Device[];

  beforeAll(async () => {
    rig = await startRig(brokerKind);
    ({ testDb, proxy, services, devices } = rig);
  });

  afterAll(async () => {
    await rig?.close();
  });

  it('stores every reading exactly once after freezes, resets and an outage', async () => {
    const brokerUrl = rig.brokerUrl;
    const clients: MqttClient[] = await Promise.all(
      devices.map((d) =>
        mqtt.connectAsync(brokerUrl, {
          username: d.id,
          password: d.secret,
          protocolVersion: 4,
          clientId: d.id,
          // Like a tracker: keep trying, also after a refusal while the server is unwell.
          reconnectPeriod: 200,
          reconnectOnConnackError: true,
        }),
      ),
    );
    const baseMs = Date.now() - 3_600_000;
    const acknowledged: Array<Promise<unknown>> = [];
    const publishing = (async () => {
      for (let seq = 1; seq <= READINGS_PER_DEVICE; seq++) {
        devices.forEach((d, i) => {
          const reading = {
            ts: new Date(baseMs + seq * 1000).toISOString(),
            lat: -10.17 - i * 1e-3,
            lon: 123.6 + seq * 1e-5,
            speedKmh: 20,
            seq,
          };
          acknowledged.push(publishUntilAcknowledged(clients[i]!, telemetryTopic(d.id), JSON.stringify(reading)));
        });
        await sleep(PUBLISH_EVERY_MS);
      }
    })();

    const faults = (async () => {
      await sleep(400);
      proxy.freeze(); // a hung network: queries neither answer nor fail
      await sleep(1500);
      proxy.thaw();
      await sleep(500);
      proxy.cut(); // every connection reset mid-stream
      await sleep(500);
      await proxy.down(); // the server gone
      await sleep(2000);
      await proxy.up();
    })();

    await Promise.all([publishing, faults]);
    await Promise.all(acknowledged);
    const expected = DEVICES * READINGS_PER_DEVICE;
    const count = async () =>
      (
        await testDb.database.query<{ rows: number; distinct: number }>(
          'SELECT count(*)::int AS rows, count(DISTINCT (device_id, seq))::int AS distinct FROM telemetry',
        )
      )[0]!;
    await waitFor(async () => (await count()).rows >= expected, `all ${expected} readings stored`, 60_000);
    await services.ingest!.idle();
    expect(await count()).toEqual({ rows: expected, distinct: expected });
    const latest = await testDb.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM vehicle_latest WHERE fix_at = $1`, [
      new Date(baseMs + READINGS_PER_DEVICE * 1000).toISOString(),
    ]);
    expect(latest[0]!.n).toBe(DEVICES);
    expect(services.ingest!.counters.failedBatches).toBeGreaterThan(0); // the faults did bite
    await Promise.all(clients.map((c) => c.endAsync()));
  });
});

/**
 * Backpressure: while PostgreSQL is frozen the worker acknowledges nothing and holds
 * only a bounded number of messages; the rest wait where they are safe (at the broker,
 * or on the devices, whose PUBACKs the embedded broker holds back).
 */
describe.skipIf(!realPostgresConfigured()).each(brokers)('backpressure while PostgreSQL is frozen (%s broker)', (brokerKind) => {
  /** Small batches, so the worker's limit on waiting messages is small too. */
  const BATCH_SIZE = 25;
  const CONCURRENCY = 2;
  /** The worker's default maxPending: above this many waiting messages it stops reading (src/ingest/worker.ts). */
  const MAX_PENDING = BATCH_SIZE * 20;
  /**
   * What the worker may hold at most: maxPending, the batches stuck in their commit, and
   * what was already read from the socket when it paused. Mosquitto's in-flight window
   * is far larger, so nothing but the worker's own pause keeps it under this.
   */
  const HOLD_LIMIT = 2 * MAX_PENDING;
  const PER_DEVICE = 200;
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig(brokerKind, {
      env: { INGEST_BATCH_SIZE: String(BATCH_SIZE), INGEST_CONCURRENCY: String(CONCURRENCY) },
      maxInflightMessages: 20_000,
      tap: true,
    });
  });

  afterAll(async () => {
    await rig?.close();
  });

  const inFlightGauge = async () => (await rig.services.metrics.ingest.inFlight.get()).values[0]?.value ?? 0;

  it('acknowledges nothing and holds a bounded number while frozen, then stores everything exactly once', async () => {
    const { proxy, services, devices, tap, testDb } = rig;
    const worker = services.ingest!;
    const clients: MqttClient[] = await Promise.all(
      devices.map((d) =>
        mqtt.connectAsync(rig.brokerUrl, { username: d.id, password: d.secret, protocolVersion: 4, clientId: d.id, reconnectPeriod: 200 }),
      ),
    );
    // Padded to about 2 KB: one socket read then holds a few dozen messages, not the whole
    // backlog, so a bound on what the worker holds shows above the noise of buffering.
    const note = 'n'.repeat(2000);
    const baseMs = Date.now() - 3_600_000;
    const reading = (i: number, seq: number) =>
      JSON.stringify({
        ts: new Date(baseMs + seq * 1000).toISOString(),
        lat: -10.17 - i * 1e-3,
        lon: 123.6 + seq * 1e-5,
        speedKmh: 20,
        seq,
        note,
      });
    // Stored directly, not through the proxy: the test's own view of the database.
    const stored = async () =>
      (
        await testDb.database.query<{ rows: number; distinct: number }>(
          'SELECT count(*)::int AS rows, count(DISTINCT (device_id, seq))::int AS distinct FROM telemetry WHERE seq > 1',
        )
      )[0]!;

    // Warm up (device cache, partitions), and let everything settle: nothing in flight.
    await Promise.all(devices.map((d, i) => clients[i]!.publishAsync(telemetryTopic(d.id), reading(i, 1), { qos: 1 })));
    await waitFor(
      async () => Number((await testDb.database.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry'))[0]!.n) === DEVICES,
      'the warm-up readings',
    );
    await worker.idle();
    expect(await inFlightGauge()).toBe(0);

    proxy.freeze();
    const receivedBefore = worker.counters.received;
    const pubacksBefore = tap?.count('toBroker', 'puback') ?? 0;
    let brokerAcknowledged = 0;
    const publishes: Array<Promise<unknown>> = [];
    for (let seq = 2; seq < 2 + PER_DEVICE; seq++) {
      devices.forEach((d, i) => {
        publishes.push(clients[i]!.publishAsync(telemetryTopic(d.id), reading(i, seq), { qos: 1 }).then(() => brokerAcknowledged++));
      });
      if (seq % 20 === 0) await sleep(20);
    }
    const total = DEVICES * PER_DEVICE;
    // Mosquitto takes every message from the devices at once (the embedded broker does not: see below).
    if (brokerKind === 'mosquitto') await waitFor(async () => brokerAcknowledged === total, 'the broker to acknowledge every publish');
    // Until the worker has taken all it is going to take: its count stands still for a second.
    let maxGauge = 0;
    let last = -1;
    let still = 0;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && still < 10; ) {
      await sleep(100);
      maxGauge = Math.max(maxGauge, await inFlightGauge());
      const received = worker.counters.received - receivedBefore;
      still = received === last && received > 0 ? still + 1 : 0;
      last = received;
    }
    const receivedFrozen = worker.counters.received - receivedBefore;
    const gaugeFrozen = await inFlightGauge();
    if (brokerKind === 'mosquitto') {
      // The worker acknowledged none of them: the broker keeps every message (what it sent
      // on waits unread in the socket; the worker stopped reading at its limit).
      expect(tap!.count('toBroker', 'puback')).toBe(pubacksBefore);
      // It did fill up to its limit (the test exercised the pause, not a slow publisher).
      expect(receivedFrozen).toBeGreaterThanOrEqual(MAX_PENDING);
    } else {
      // The embedded broker holds each device's PUBACK until the commit: every publish is
      // still unacknowledged on the devices, which keep the backlog.
      expect(brokerAcknowledged).toBe(0);
      expect(receivedFrozen).toBeGreaterThan(0);
    }
    expect(receivedFrozen).toBeLessThanOrEqual(HOLD_LIMIT);
    expect(receivedFrozen).toBeLessThan(total);
    expect(maxGauge).toBeLessThanOrEqual(HOLD_LIMIT);
    expect(gaugeFrozen).toBe(receivedFrozen); // held: neither acknowledged nor dropped
    expect(await stored()).toEqual({ rows: 0, distinct: 0 });

    proxy.thaw();
    await waitFor(async () => (await stored()).rows >= total, `all ${total} readings stored`, 60_000);
    await Promise.all(publishes);
    await worker.idle();
    expect(await stored()).toEqual({ rows: total, distinct: total });
    expect(await inFlightGauge()).toBe(0);
    if (tap) expect(tap.count('toBroker', 'puback') - pubacksBefore).toBeGreaterThanOrEqual(total);
    const latest = await testDb.database.query<{ n: number }>('SELECT count(*)::int AS n FROM vehicle_latest WHERE fix_at = $1', [
      new Date(baseMs + (1 + PER_DEVICE) * 1000).toISOString(),
    ]);
    expect(latest[0]!.n).toBe(DEVICES);
    await Promise.all(clients.map((c) => c.endAsync()));
  });
});
