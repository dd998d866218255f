/**
 * The rest of the ingest contract end to end: OwnTracks phones, per-device seq gaps,
 * the filters that need a history, late data marked for the rollups, a device
 * flushing hours of buffered readings amid live traffic, and the metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { ownTracksTopic, telemetryTopic } from '../../src/domain/topics.js';
import { connectDevice, registerVehicleWithDevice, startTestService, waitFor, type TestService } from '../support/service.js';
import { realBrokerUrl } from '../support/stores.js';

let t: TestService;

beforeAll(async () => {
  t = await startTestService();
});

afterAll(async () => {
  await t?.close();
});

const rowsFor = async (vehicleId: string) =>
  Number((await t.services.database.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry WHERE vehicle_id = $1', [vehicleId]))[0]!.n);
const quarantined = async (deviceId: string, reason: string) =>
  Number((await t.services.database.query<{ n: number }>('SELECT count(*)::int AS n FROM quarantine WHERE device_id = $1 AND reason = $2', [deviceId, reason]))[0]!.n);

describe('OwnTracks', () => {
  it('stores a phone location and quarantines its other messages', async () => {
    const dep = (await (await t.api('/api/v1/departments', { method: 'POST', json: { code: 'OWN', name: 'Phones' } })).json()) as { id: string };
    const veh = (await (
      await t.api('/api/v1/vehicles', {
        method: 'POST',
        json: { plateNumber: 'DH 77 OT', departmentId: dep.id, kind: 'motorcycle', fuelType: 'pertalite', tankCapacityLitres: 4.5, ratedLitresPer100Km: 2.2, idleLitresPerHour: 0.1, monthlyAllocationLitres: 40 },
      })
    ).json()) as { id: string };
    const res = await t.api('/api/v1/devices', { method: 'POST', json: { id: 'budi/phone', vehicleId: veh.id, protocol: 'owntracks' } });
    expect(res.status).toBe(201);
    const device = (await res.json()) as { secret: string; mqtt: { username: string; topic: string } };
    expect(device.mqtt).toEqual({ username: 'budi/phone', topic: 'owntracks/budi/phone' });

    const phone = await connectDevice(t.deviceMqttUrl, 'budi/phone', device.secret);
    const tst = Math.floor(Date.now() / 1000) - 5;
    await phone.publishAsync(ownTracksTopic('budi/phone'), JSON.stringify({ _type: 'location', lat: -10.1581, lon: 123.6061, tst, vel: 18, cog: 90, alt: 40, acc: 8, batt: 77, tid: 'bd' }), { qos: 1 });
    await phone.publishAsync(ownTracksTopic('budi/phone'), JSON.stringify({ _type: 'lwt', tst }), { qos: 1 });
    await phone.endAsync();

    const latest = await waitFor(async () => {
      const rows = (await (await t.api('/api/v1/positions/latest')).json()) as Array<{ vehicleId: string; at: string; speedKmh: number; lat: number }>;
      return rows.find((r) => r.vehicleId === veh.id);
    }, 'the phone position');
    expect(latest).toMatchObject({ at: new Date(tst * 1000).toISOString(), speedKmh: 18, lat: -10.1581 });
    const [row] = await t.services.database.query('SELECT attributes FROM telemetry WHERE vehicle_id = $1', [veh.id]);
    expect(row!.attributes).toEqual({ accuracyM: 8, phoneBatteryPercent: 77, tid: 'bd' });
    await waitFor(async () => (await quarantined('budi/phone', 'not_a_location')) === 1, 'the lwt message in quarantine');
  });
});

describe('seq gaps, filters and late data', () => {
  it('counts readings missing from the seq counter, and counts a late one back', async () => {
    const d = await registerVehicleWithDevice(t);
    const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    const base = Date.now() - 600_000;
    const send = (seq: number) =>
      client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: new Date(base + seq * 10_000).toISOString(), lat: -10.17, lon: 123.6 + seq * 1e-4, seq }), { qos: 1 });
    const missing = async () => {
      const list = (await (await t.api(`/api/v1/vehicles/${d.vehicleId}/devices`)).json()) as Array<{ seqMissing: number | null }>;
      return list[0]!.seqMissing;
    };
    for (const seq of [1, 2, 5, 6]) await send(seq);
    await waitFor(async () => (await rowsFor(d.vehicleId)) === 4, 'four readings');
    expect(await missing()).toBe(2);
    await send(3);
    await waitFor(async () => (await rowsFor(d.vehicleId)) === 5, 'the late reading');
    expect(await missing()).toBe(1);
    await client.endAsync();
    const metrics = await (await fetch(`${t.services.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^armada_ingest_seq_missing_total [1-9]/m);
    expect(metrics).toMatch(/^armada_ingest_readings_stored_total [1-9]/m);
    expect(metrics).toContain('armada_ingest_commit_seconds_bucket');
  });

  it('quarantines a jump no vehicle can make and a reading older than the limit, with counts by reason', async () => {
    const d = await registerVehicleWithDevice(t);
    const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    const now = Date.now();
    const at = (s: number) => new Date(now - 60_000 + s * 1000).toISOString();
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: at(0), lat: -10.17, lon: 123.6 }), { qos: 1 });
    // 10 s later, 55 km away (Kupang to Soe is further, but not in 10 seconds).
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: at(10), lat: -10.17, lon: 124.1 }), { qos: 1 });
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: at(20), lat: -10.1702, lon: 123.6003 }), { qos: 1 });
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: new Date(now - 500 * 86_400_000).toISOString(), lat: -10.17, lon: 123.6 }), { qos: 1 });
    await client.endAsync();
    await waitFor(async () => (await quarantined(d.deviceId, 'implausible_jump')) === 1, 'the jump in quarantine');
    await waitFor(async () => (await quarantined(d.deviceId, 'too_old')) === 1, 'the old reading in quarantine');
    expect(await rowsFor(d.vehicleId)).toBe(2);
    const metrics = await (await fetch(`${t.services.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^armada_ingest_quarantined_total\{reason="implausible_jump"\} [1-9]/m);
  });

  it('marks past report days that received readings late, and the rollup job recomputes them', async () => {
    const d = await registerVehicleWithDevice(t);
    const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    // Three days ago at noon in Kupang (UTC+8) is 04:00 UTC that day.
    const day = new Date(Date.now() - 3 * 86_400_000);
    const noonWita = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 4));
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: noonWita.toISOString(), lat: -10.17, lon: 123.6 }), { qos: 1 });
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: new Date().toISOString(), lat: -10.17, lon: 123.6 }), { qos: 1 });
    await client.endAsync();
    await waitFor(async () => (await rowsFor(d.vehicleId)) === 2, 'both readings');
    // The mark tells the rollup job to recompute that day; the job (which may already have
    // run by itself) then has a rollup for it and has cleared the mark.
    await t.services.rollups.runOnce();
    const lateDay = noonWita.toISOString().slice(0, 10);
    const rolled = await t.services.database.query(`SELECT 1 FROM vehicle_day_rollups WHERE vehicle_id = $1 AND day = $2`, [d.vehicleId, lateDay]);
    expect(rolled).toHaveLength(1);
    const marks = await t.services.database.query(`SELECT 1 FROM telemetry_late_days WHERE vehicle_id = $1`, [d.vehicleId]);
    expect(marks).toHaveLength(0);
  });
});

describe('offline flush', () => {
  it('stores 8 hours buffered by 50 devices, interleaved with their live traffic, and keeps the live position latest', async () => {
    const devices = await Promise.all(Array.from({ length: 50 }, () => registerVehicleWithDevice(t)));
    const nowMs = Date.now();
    const startMs = nowMs - 8 * 3_600_000;
    const intervalMs = 30_000;
    const perDevice = (8 * 3_600_000) / intervalMs; // 960
    const clients = await Promise.all(devices.map((d) => connectDevice(t.deviceMqttUrl, d.deviceId, d.secret)));
    const sends: Array<Promise<unknown>> = [];
    devices.forEach((d, i) => {
      const buffered = Array.from({ length: perDevice }, (_, k) => ({
        ts: new Date(startMs + k * intervalMs).toISOString(),
        // A track that ends where the device is now (its live fixes): physically possible.
        lat: -10.1702 - (perDevice - k) * 1e-5,
        lon: 123.6078 + i * 1e-5,
        speedKmh: 25,
        seq: k + 1,
      }));
      const topic = telemetryTopic(d.deviceId);
      // Live first, then the backlog in two arrays, then live again: the newest fix must win.
      sends.push(clients[i]!.publishAsync(topic, JSON.stringify({ ts: new Date(nowMs - 2000).toISOString(), lat: -10.1702, lon: 123.6078, seq: perDevice + 1 }), { qos: 1 }));
      sends.push(clients[i]!.publishAsync(topic, JSON.stringify(buffered.slice(0, perDevice / 2)), { qos: 1 }));
      sends.push(clients[i]!.publishAsync(topic, JSON.stringify(buffered.slice(perDevice / 2)), { qos: 1 }));
      sends.push(clients[i]!.publishAsync(topic, JSON.stringify({ ts: new Date(nowMs - 1000).toISOString(), lat: -10.1703, lon: 123.6079, seq: perDevice + 2 }), { qos: 1 }));
    });
    await Promise.all(sends);
    const ids = devices.map((d) => d.vehicleId);
    const total = async () => Number((await t.services.database.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry WHERE vehicle_id = ANY($1::uuid[])', [ids]))[0]!.n);
    await waitFor(async () => (await total()) === devices.length * (perDevice + 2), 'every buffered and live reading', 60_000).catch(async (err: Error) => {
      // Say what did arrive, so a failure shows where the readings stopped.
      const quarantined = await t.services.database.query('SELECT reason, count(*)::int AS n FROM quarantine GROUP BY reason');
      const counters = t.services.ingest?.counters;
      throw new Error(`${err.message}: ${await total()} of ${devices.length * (perDevice + 2)} stored; quarantine ${JSON.stringify(quarantined)}; worker ${JSON.stringify(counters)}`);
    });
    const latest = await t.services.database.query<{ fix_at: Date | string }>('SELECT fix_at FROM vehicle_latest WHERE vehicle_id = ANY($1::uuid[])', [ids]);
    expect(latest).toHaveLength(devices.length);
    for (const row of latest) expect(new Date(row.fix_at).toISOString()).toBe(new Date(nowMs - 1000).toISOString());
    const list = (await (await t.api(`/api/v1/vehicles/${devices[0]!.vehicleId}/devices`)).json()) as Array<{ seqMissing: number }>;
    expect(list[0]!.seqMissing).toBe(0);
    await Promise.all(clients.map((c) => c.endAsync()));
  }, 120_000);
});

describe.skipIf(!realBrokerUrl())('per-device subscriptions on a shared broker (INGEST_SUBSCRIPTIONS=per-device)', () => {
  it('hears a device registered through the API from its first message, and nothing of devices it does not know', async () => {
    expect(t.services.config.ingestSubscriptions).toBe('per-device');
    const before = t.services.ingest!.counters.received;
    // Another deployment's tracker on the same broker: not subscribed, so never delivered here.
    const stranger = await mqtt.connectAsync(t.deviceMqttUrl, { protocolVersion: 4, reconnectPeriod: 0 });
    await stranger.publishAsync(telemetryTopic(`elsewhere-${Date.now()}`), JSON.stringify({ ts: new Date().toISOString(), lat: -10.17, lon: 123.6 }), { qos: 1 });
    // Registered a moment ago: POST /devices answered only once the worker had subscribed.
    const d = await registerVehicleWithDevice(t);
    const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
    await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts: new Date().toISOString(), lat: -10.17, lon: 123.6 }), { qos: 1 });
    await client.endAsync();
    await stranger.endAsync();
    await waitFor(async () => Number((await t.services.database.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry WHERE vehicle_id = $1', [d.vehicleId]))[0]!.n) === 1, 'the new device\'s first reading');
    await t.services.ingest!.idle();
    expect(t.services.ingest!.counters.received - before).toBe(1);
  });
});
