/**
 * MQTT in, PostgreSQL out: the ingest worker against the run's real stores (or PGlite
 * and the embedded broker on a machine without them).
 */

import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveTopic, telemetryTopic } from '../../src/domain/topics.js';
import { connectDevice, registerVehicleWithDevice, startTestService, type TestService, waitFor } from '../support/service.js';

let t: TestService;
let device: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
let client: MqttClient;

const count = async (sql: string, params: unknown[]) => Number((await t.services.database.query<{ n: number }>(sql, params))[0]!.n);
const storedFor = (vehicleId: string) => count('SELECT count(*)::int AS n FROM telemetry WHERE vehicle_id = $1', [vehicleId]);
const quarantinedFor = (topic: string, reason: string) =>
  count('SELECT count(*)::int AS n FROM quarantine WHERE topic = $1 AND reason = $2', [topic, reason]);

beforeAll(async () => {
  // The one service on the shared broker that subscribes with the wildcard, as a single
  // worker does by default: it must see (and quarantine) a device nobody registered.
  t = await startTestService({ env: { INGEST_SUBSCRIPTIONS: 'wildcard' } });
  device = await registerVehicleWithDevice(t);
  client = await connectDevice(t.deviceMqttUrl, device.deviceId, device.secret);
});

afterAll(async () => {
  await client?.endAsync();
  await t?.close();
});

const base = Date.parse('2026-11-27T01:00:00Z');
const at = (s: number) => new Date(base + s * 1000).toISOString();
const publish = (payload: unknown, topic = telemetryTopic(device.deviceId)) =>
  client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });

describe('ingest', () => {
  it('stores a reading with every field and advances the latest state', async () => {
    await publish({
      ts: at(0),
      lat: -10.170167,
      lon: 123.60775,
      speedKmh: 42.5,
      headingDeg: 270,
      altitudeM: 35,
      satellites: 9,
      hdop: 0.9,
      ignition: true,
      odometerKm: 12345.6,
      fuelLitres: 38.2,
      fuelPercent: 63.5,
      fuelUsedLitres: 1234.5,
      batteryV: 12.6,
      seq: 1,
      rssi: -70,
    });
    await waitFor(async () => (await storedFor(device.vehicleId)) === 1, 'the reading to be stored');
    const [row] = await t.services.database.query(
      `SELECT device_id, fix_at, lat, lon, speed_kmh, heading_deg, altitude_m, satellites, hdop, ignition, odometer_km,
              fuel_litres, fuel_percent, fuel_used_litres, battery_v, seq::int AS seq, attributes FROM telemetry WHERE vehicle_id = $1`,
      [device.vehicleId],
    );
    expect(row).toMatchObject({
      device_id: device.deviceId,
      lat: -10.170167,
      lon: 123.60775,
      satellites: 9,
      ignition: true,
      odometer_km: 12345.6,
      fuel_used_litres: 1234.5,
      seq: 1,
      attributes: { rssi: -70 },
    });
    expect(new Date(row!.fix_at as string).toISOString()).toBe(at(0));
    expect(row!.speed_kmh).toBeCloseTo(42.5, 3);
    expect(row!.fuel_litres).toBeCloseTo(38.2, 3);
    // The latest state is written behind the readings: idle() writes it now.
    await t.services.ingest!.idle();
    const [latest] = await t.services.database.query('SELECT fix_at, lat FROM vehicle_latest WHERE vehicle_id = $1', [device.vehicleId]);
    expect(new Date(latest!.fix_at as string).toISOString()).toBe(at(0));
  });

  it('stores an array (a device flushing its buffer) and skips a resent reading', async () => {
    await publish([
      { ts: at(10), lat: -10.171, lon: 123.608, speedKmh: 30 },
      { ts: at(20), lat: -10.172, lon: 123.609, speedKmh: 31 },
      { ts: at(30), lat: -10.173, lon: 123.61, speedKmh: 32 },
    ]);
    await publish({ ts: at(20), lat: -10.172, lon: 123.609, speedKmh: 31 });
    await publish({ ts: at(40), lat: -10.174, lon: 123.611 });
    await waitFor(async () => (await storedFor(device.vehicleId)) === 5, 'five distinct readings');
    // The marker at 40 s was published after the duplicate, so the duplicate has been processed too.
    expect(await storedFor(device.vehicleId)).toBe(5);
  });

  it('never lets an older fix overwrite the latest state', async () => {
    await publish({ ts: at(-3600), lat: -10.2, lon: 123.55 });
    await waitFor(async () => (await storedFor(device.vehicleId)) === 6, 'the old reading to be stored');
    await t.services.ingest!.idle();
    const [latest] = await t.services.database.query('SELECT fix_at FROM vehicle_latest WHERE vehicle_id = $1', [device.vehicleId]);
    expect(new Date(latest!.fix_at as string).toISOString()).toBe(at(40));
  });

  it('stores readings from an older month in their own partition', async () => {
    await publish({ ts: '2026-03-15T04:00:00Z', lat: -10.2, lon: 123.55 });
    await waitFor(async () => (await storedFor(device.vehicleId)) === 7, 'the reading from March 2026');
    const parts = await t.services.database.query(`SELECT 1 FROM pg_tables WHERE tablename = 'telemetry_2026_03'`);
    expect(parts).toHaveLength(1);
  });

  it('quarantines broken messages with a reason and keeps running', async () => {
    const topic = telemetryTopic(device.deviceId);
    await publish('{"ts": "2026-11-27T01:00:00Z", "lat": ');
    await publish({ ts: at(50), lon: 123.6 });
    await publish({ ts: new Date(Date.now() + 3_600_000).toISOString(), lat: -10.17, lon: 123.6 });
    await publish({ ts: at(55), lat: 0, lon: 0 });
    await waitFor(async () => (await quarantinedFor(topic, 'not_json')) === 1, 'invalid JSON in quarantine');
    await waitFor(async () => (await quarantinedFor(topic, 'missing_field')) === 1, 'missing lat in quarantine');
    await waitFor(async () => (await quarantinedFor(topic, 'future_timestamp')) === 1, 'future fix in quarantine');
    await waitFor(async () => (await quarantinedFor(topic, 'null_island')) === 1, '0,0 in quarantine');
    const [entry] = await t.services.database.query(
      `SELECT detail, convert_from(payload, 'UTF8') AS payload, payload_bytes FROM quarantine WHERE topic = $1 AND reason = 'missing_field'`,
      [topic],
    );
    expect(entry!.detail).toContain('lat');
    expect(JSON.parse(entry!.payload as string)).toEqual({ ts: at(50), lon: 123.6 });

    // The worker is still there: a good reading after the bad ones is stored.
    await publish({ ts: at(60), lat: -10.175, lon: 123.612 });
    await waitFor(async () => (await storedFor(device.vehicleId)) === 8, 'a good reading after the bad ones');
  });

  it('publishes a committed newest position to the live topic, and an older one not at all', async () => {
    const listenerUrl = t.services.broker?.internalUrl ?? t.deviceMqttUrl;
    const listener = await mqtt.connectAsync(listenerUrl, { protocolVersion: 4, reconnectPeriod: 0 });
    const topic = liveTopic(device.departmentId, device.vehicleId);
    const received: Array<Record<string, unknown>> = [];
    listener.on('message', (_t, payload) => received.push(JSON.parse(payload.toString())));
    await listener.subscribeAsync(topic, { qos: 0 });
    await publish({ ts: at(-7200), lat: -10.3, lon: 123.5 });
    await publish({ ts: at(100), lat: -10.176, lon: 123.613, speedKmh: 25, ignition: true, fuelLitres: 33.5 });
    const live = await waitFor(async () => received.find((m) => m.at === at(100)), 'the live position');
    expect(live).toEqual({
      vehicleId: device.vehicleId,
      departmentId: device.departmentId,
      deviceId: device.deviceId,
      at: at(100),
      lat: -10.176,
      lon: 123.613,
      speedKmh: 25,
      headingDeg: null,
      fuelLitres: 33.5,
      fuelPercent: null,
      ignition: true,
      batteryV: null,
    });
    // By then the position two hours older was committed (it was published first) and not announced.
    const [old] = await t.services.database.query('SELECT 1 AS ok FROM telemetry WHERE vehicle_id = $1 AND fix_at = $2', [
      device.vehicleId,
      at(-7200),
    ]);
    expect(old).toBeDefined();
    expect(received.map((m) => m.at)).toEqual([at(100)]);
    await listener.endAsync();
  });

  it('quarantines telemetry from an unknown device', async () => {
    const ghost = `ghost-${Date.now().toString(36)}`;
    const topic = telemetryTopic(ghost);
    if (t.services.broker) {
      // The embedded broker refuses unknown devices at the door; the ingest path is
      // still exercised by an internal client publishing in their name.
      const internal = await mqtt.connectAsync(t.services.broker.internalUrl, { protocolVersion: 4, reconnectPeriod: 0 });
      await internal.publishAsync(topic, JSON.stringify({ ts: at(70), lat: -10.17, lon: 123.6 }), { qos: 1 });
      await internal.endAsync();
      await expect(connectDevice(t.deviceMqttUrl, ghost, 'whatever')).rejects.toThrow();
    } else {
      const stranger = await mqtt.connectAsync(t.deviceMqttUrl, { protocolVersion: 4, reconnectPeriod: 0 });
      await stranger.publishAsync(topic, JSON.stringify({ ts: at(70), lat: -10.17, lon: 123.6 }), { qos: 1 });
      await stranger.endAsync();
    }
    await waitFor(async () => (await quarantinedFor(topic, 'unknown_device')) === 1, 'the unknown device in quarantine');
  });

  it("quarantines, with a reason, what an OwnTracks phone sends on a topic that is not its device's", async () => {
    const user = `rina${Date.now().toString(36)}`;
    const json = { id: `${user}/phone`, vehicleId: device.vehicleId, protocol: 'owntracks' };
    const res = await t.api('/api/v1/devices', { method: 'POST', json });
    expect(res.status).toBe(201);
    const phone = (await res.json()) as { secret: string; mqtt: { username: string } };
    expect(phone.mqtt.username).toBe(user);
    const client = await connectDevice(t.deviceMqttUrl, user, phone.secret);
    const location = JSON.stringify({ _type: 'location', tst: Math.floor(Date.now() / 1000) - 5, lat: -10.16, lon: 123.6 });
    // The app's device id set to `tablet` instead of `phone`; and a topic one level short.
    await client.publishAsync(`owntracks/${user}/tablet`, location, { qos: 1 });
    await client.publishAsync(`owntracks/${user}`, location, { qos: 1 });
    await client.endAsync();
    await waitFor(async () => (await quarantinedFor(`owntracks/${user}/tablet`, 'unknown_device')) === 1, 'the wrong device id');
    await waitFor(async () => (await quarantinedFor(`owntracks/${user}`, 'unknown_topic')) === 1, 'the short topic in quarantine');
  });
});
