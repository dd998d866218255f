/**
 * Ingest while PostgreSQL misbehaves: its connections frozen, cut, and the server gone
 * for a while, in the middle of a stream. Every reading the devices sent must be stored
 * exactly once when the database is back. Needs a real PostgreSQL (a TCP proxy the test
 * controls sits in front of it); runs once with a real Mosquitto and once with the
 * embedded broker, whose device PUBACKs wait for the commit.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchBroker, mosquittoAvailable } from '../../bench/mosquitto.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { telemetryTopic } from '../../src/domain/topics.js';
import { startServices, type Services } from '../../src/runtime.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../src/security/secrets.js';
import { waitFor } from '../support/service.js';
import { publishUntilAcknowledged } from '../support/tracker.js';
import { createTestDatabase, realPostgresConfigured, silentLogger, type TestDatabase } from '../support/stores.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const DEVICES = 10;
const READINGS_PER_DEVICE = 300;
const PUBLISH_EVERY_MS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const brokers = (['mosquitto', 'embedded'] as const).filter((b) => b === 'embedded' || mosquittoAvailable());

describe.skipIf(!realPostgresConfigured()).each(brokers)('ingest through PostgreSQL faults (%s broker)', (brokerKind) => {
  let testDb: TestDatabase;
  let proxy: TcpProxy;
  let proxied: Database;
  let mosquitto: BenchBroker | undefined;
  let services: Services;
  const devices: Array<{ id: string; secret: string; vehicleId: string }> = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const target = new URL(testDb.url!);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const viaProxy = new URL(testDb.url!);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    proxied = await openDatabase({ kind: 'postgres', url: viaProxy.toString(), logger: silentLogger });
    if (brokerKind === 'mosquitto') mosquitto = await BenchBroker.start({ maxInflightMessages: 1000, maxQueuedMessages: 1_000_000, source: 'test' });
    services = await startServices(
      loadConfig({
        HTTP_PORT: '0',
        MQTT_PORT: '0',
        WORKER_ID: `faults-${randomBytes(3).toString('hex')}`,
        INGEST_BATCH_WAIT_MS: '10',
        ...(mosquitto ? { MQTT_URL: mosquitto.url } : {}),
      }),
      { api: false, worker: true },
      { logger: silentLogger, database: proxied },
    );
    const repos = services.repos;
    const dep = await repos.departments.create({ code: `F${randomBytes(2).toString('hex')}`, name: 'Faults' });
    for (let i = 0; i < DEVICES; i++) {
      const vehicle = await repos.vehicles.create({
        plateNumber: `DH F${i} ${randomBytes(2).toString('hex')}`,
        departmentId: dep.id, kind: 'car', fuelType: 'pertalite', tankCapacityLitres: 50, ratedLitresPer100Km: 9, idleLitresPerHour: 0.8, monthlyAllocationLitres: 200,
      });
      const secret = generateDeviceSecret();
      const id = `fault-${i}-${randomBytes(2).toString('hex')}`;
      await repos.devices.create({ id, vehicleId: vehicle.id, protocol: 'armada', secretHash: hashDeviceSecret(secret) });
      devices.push({ id, secret, vehicleId: vehicle.id });
    }
  });

  afterAll(async () => {
    await services?.close();
    await proxied?.close();
    await proxy?.stop();
    await mosquitto?.stop();
    await testDb?.drop();
  });

  it('stores every reading exactly once after freezes, resets and an outage', async () => {
    const brokerUrl = mosquitto?.url ?? services.deviceMqttUrl!;
    const clients: MqttClient[] = await Promise.all(
      devices.map((d) => mqtt.connectAsync(brokerUrl, {
        username: d.id, password: d.secret, protocolVersion: 4, clientId: d.id,
        // Like a tracker: keep trying, also after a refusal while the server is unwell.
        reconnectPeriod: 200, reconnectOnConnackError: true,
      })),
    );
    const baseMs = Date.now() - 3_600_000;
    const acknowledged: Array<Promise<unknown>> = [];
    const publishing = (async () => {
      for (let seq = 1; seq <= READINGS_PER_DEVICE; seq++) {
        devices.forEach((d, i) => {
          const reading = { ts: new Date(baseMs + seq * 1000).toISOString(), lat: -10.17 - i * 1e-3, lon: 123.6 + seq * 1e-5, speedKmh: 20, seq };
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
      (await testDb.database.query<{ rows: number; distinct: number }>(
        'SELECT count(*)::int AS rows, count(DISTINCT (device_id, seq))::int AS distinct FROM telemetry',
      ))[0]!;
    await waitFor(async () => (await count()).rows >= expected, `all ${expected} readings stored`, 60_000);
    await services.ingest!.idle();
    expect(await count()).toEqual({ rows: expected, distinct: expected });
    const latest = await testDb.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM vehicle_latest WHERE fix_at = $1`,
      [new Date(baseMs + READINGS_PER_DEVICE * 1000).toISOString()],
    );
    expect(latest[0]!.n).toBe(DEVICES);
    expect(services.ingest!.counters.failedBatches).toBeGreaterThan(0); // the faults did bite
    await Promise.all(clients.map((c) => c.endAsync()));
  });
});
