/**
 * The ingest's latest state written behind the readings (src/ingest/state-behind.ts), on
 * the real stores: what a worker committed but had not yet flushed when it died is added
 * by the next start, exactly once, even when the dead worker's flush comes after all; the
 * API's latest position never lags the stored readings; a redelivered batch counts
 * nothing twice. Runs on PostgreSQL (where readings go by COPY) and on PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoundReading } from '../../src/domain/ingest-types.js';
import { stateBehind } from '../../src/ingest/state-behind.js';
import { createRepositories, type Repositories } from '../../src/repositories/index.js';
import { ALL_DEPARTMENTS } from '../../src/repositories/scope.js';
import { telemetryWriter } from '../../src/repositories/telemetry.js';
import { boundReading } from '../support/bound-reading.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/stores.js';

const TZ = 'Asia/Makassar';
let testDb: TestDatabase;
let repos: Repositories;
let departmentId: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  repos = createRepositories(testDb.database);
  departmentId = (await repos.departments.create({ code: 'SB', name: 'State behind' })).id;
});
afterAll(async () => testDb?.drop());

let plates = 0;
async function vehicleWithDevice(deviceId: string) {
  const vehicle = await repos.vehicles.create({
    plateNumber: `DH ${++plates} SB`,
    departmentId,
    kind: 'car',
    fuelType: 'pertalite',
    tankCapacityLitres: 50,
    ratedLitresPer100Km: 9,
    idleLitresPerHour: 0.8,
    monthlyAllocationLitres: 200,
  });
  await repos.devices.create({ id: deviceId, vehicleId: vehicle.id, protocol: 'armada', secretHash: 'x' });
  return { vehicleId: vehicle.id, deviceId };
}

const BASE_MS = Date.now() - 3_600_000;
function reading(ids: { vehicleId: string; deviceId: string }, seq: number): BoundReading {
  const fixAtMs = BASE_MS + seq * 10_000;
  return boundReading({
    ...ids,
    departmentId,
    fixAtMs,
    receivedAtMs: fixAtMs + 500,
    lat: -10.17 + seq * 1e-4,
    lon: 123.6,
    speedKmh: 20 + seq,
    headingDeg: 90,
    satellites: 9,
    hdop: 0.9,
    ignition: true,
    odometerKm: 1000 + seq,
    fuelLitres: 40 - seq * 0.1,
    batteryV: 12.6,
    seq,
    attributes: seq === 2 ? { note: 'tab\there, back\\slash, line\nbreak' } : null,
  });
}

function worker() {
  return stateBehind(telemetryWriter(testDb.database, { reportTz: TZ }), {
    repo: repos.ingestState,
    loadNewest: async () => (await repos.positions.newestFixes()).map((f) => [f.vehicleId, f.fixAtMs] as const),
    logger: silentLogger,
    // Never on their own in this test: every flush and sweep is called.
    flushMs: 3_600_000,
    leftBehindAfterS: 3_600,
  });
}

const deviceRow = async (id: string) =>
  (
    await testDb.database.query<{
      seq_first: number | null;
      seq_max: number | null;
      seq_received: number;
      last_seen_at: Date | string | null;
    }>('SELECT seq_first::int, seq_max::int, seq_received::int, last_seen_at FROM devices WHERE id = $1', [id])
  )[0]!;
const latestFix = async (vehicleId: string) => {
  const [row] = await testDb.database.query<{ fix_at: Date | string }>('SELECT fix_at FROM vehicle_latest WHERE vehicle_id = $1', [
    vehicleId,
  ]);
  return row ? new Date(row.fix_at).getTime() : undefined;
};

describe('latest state written behind the readings', () => {
  it('adds what a dead worker committed but never flushed at the next start, once, even if its flush comes after all', async () => {
    const a = await vehicleWithDevice('sb-dead-1');
    const dead = worker();
    await dead.start();
    const first = await dead.writeBatch([reading(a, 1), reading(a, 2)], []);
    expect(first.advanced.map((x) => x.reading.seq)).toEqual([2]);
    // Seq 3 and 4 never arrive: two missing.
    const second = await dead.writeBatch([reading(a, 5)], []);
    expect(second).toMatchObject({ stored: 1, duplicates: 0 });

    // Nothing flushed: the rows wait, but the API's latest position is already the newest stored.
    expect(await latestFix(a.vehicleId)).toBeUndefined();
    expect((await deviceRow(a.deviceId)).seq_received).toBe(0);
    const [api] = await repos.positions.latest(ALL_DEPARTMENTS, { vehicleIds: [a.vehicleId] });
    expect(api!.fixAt.getTime()).toBe(reading(a, 5).fixAtMs);

    // The next worker recovers at start: figures added, the latest read back from the readings.
    const next = worker();
    await next.start();
    expect(await latestFix(a.vehicleId)).toBe(reading(a, 5).fixAtMs);
    const recovered = await deviceRow(a.deviceId);
    expect(recovered).toMatchObject({ seq_first: 1, seq_max: 5, seq_received: 3 });
    expect(new Date(recovered.last_seen_at!).getTime()).toBe(reading(a, 5).receivedAtMs);
    // The dead worker was only stuck: its late flush finds its rows taken and counts nothing again.
    await dead.flush();
    expect((await deviceRow(a.deviceId)).seq_received).toBe(3);
    expect(await latestFix(a.vehicleId)).toBe(reading(a, 5).fixAtMs);
    expect((await repos.ingestState.backlog()).rows).toBe(0);
    await next.stop();
    await dead.stop();
  });

  it('flushes its own figures, skips a redelivered batch, and announces only fixes newer than the newest', async () => {
    const a = await vehicleWithDevice('sb-own-1');
    const b = await vehicleWithDevice('sb-own-2');
    const w = worker();
    await w.start();
    const batch = [reading(a, 1), reading(a, 2), reading(b, 1)];
    expect((await w.writeBatch(batch, [])).advanced).toHaveLength(2);
    await w.flush();
    expect(await deviceRow(a.deviceId)).toMatchObject({ seq_first: 1, seq_max: 2, seq_received: 2 });
    expect(await latestFix(a.vehicleId)).toBe(reading(a, 2).fixAtMs);

    // The same batch again (a redelivery), with one new reading: only that one is stored and counted.
    const again = await w.writeBatch([...batch, reading(b, 2)], []);
    expect(again).toMatchObject({ stored: 1, duplicates: 3 });
    expect(again.advanced.map((x) => [x.vehicleId, x.reading.seq])).toEqual([[b.vehicleId, 2]]);
    // An older fix than the newest stored is kept but announces nothing.
    expect((await w.writeBatch([reading(a, 0)], [])).advanced).toEqual([]);
    await w.stop();
    expect(await deviceRow(a.deviceId)).toMatchObject({ seq_first: 0, seq_max: 2, seq_received: 3 });
    expect(await deviceRow(b.deviceId)).toMatchObject({ seq_first: 1, seq_max: 2, seq_received: 2 });
    expect(await latestFix(a.vehicleId)).toBe(reading(a, 2).fixAtMs);
    expect(await latestFix(b.vehicleId)).toBe(reading(b, 2).fixAtMs);
    const [stored] = await testDb.database.query<{ attributes: unknown }>(
      'SELECT attributes FROM telemetry WHERE vehicle_id = $1 AND seq = 2',
      [a.vehicleId],
    );
    expect(stored!.attributes).toEqual({ note: 'tab\there, back\\slash, line\nbreak' });
    expect((await repos.ingestState.backlog()).rows).toBe(0);
  });

  it('stores every field as sent, the nulls and the edges too (binary COPY on PostgreSQL)', async () => {
    const a = await vehicleWithDevice('sb-edges-1');
    const w = worker();
    await w.start();
    // Every optional field null.
    const bare = boundReading({
      ...a,
      departmentId,
      fixAtMs: Date.parse('2026-12-06T01:02:03.456Z'),
      receivedAtMs: Date.parse('2026-12-06T01:02:04.007Z'),
      lat: -10.123456789012,
      lon: -179.99999999,
    });
    const full: BoundReading = {
      ...reading(a, 2),
      fixAtMs: Date.parse('2026-12-06T01:02:13.999Z'),
      speedKmh: 0.1,
      headingDeg: 359.9,
      altitudeM: -12.5,
      satellites: 255,
      hdop: 0.7,
      ignition: false,
      odometerKm: 9_999_999.9,
      fuelLitres: 4999.5,
      fuelPercent: 100,
      fuelUsedLitres: 123_456_789.123,
      batteryV: 0,
      seq: 2 ** 40 + 3,
      attributes: { rssi: -70, name: 'Kupang — Oebobo ✓', nested: { list: [1, 'two', null] } },
    };
    expect(await w.writeBatch([bare, full], [])).toMatchObject({ stored: 2, duplicates: 0 });
    await w.stop();
    const rows = await testDb.database.query<Record<string, unknown>>(
      `SELECT (extract(epoch FROM fix_at) * 1000)::float8 AS fix_ms, (extract(epoch FROM received_at) * 1000)::float8 AS received_ms,
              lat, lon, speed_kmh, heading_deg, altitude_m, satellites, hdop, ignition, odometer_km, fuel_litres, fuel_percent,
              fuel_used_litres, battery_v, seq::text AS seq, attributes, device_id
         FROM telemetry WHERE vehicle_id = $1 ORDER BY fix_at`,
      [a.vehicleId],
    );
    // real columns come back as PostgreSQL prints a float4: the shortest text that reads back the same.
    expect(rows.map((r) => ({ ...r, fix_ms: Number(r.fix_ms), received_ms: Number(r.received_ms) }))).toEqual([
      {
        fix_ms: bare.fixAtMs,
        received_ms: bare.receivedAtMs,
        lat: bare.lat,
        lon: bare.lon,
        speed_kmh: null,
        heading_deg: null,
        altitude_m: null,
        satellites: null,
        hdop: null,
        ignition: null,
        odometer_km: null,
        fuel_litres: null,
        fuel_percent: null,
        fuel_used_litres: null,
        battery_v: null,
        seq: null,
        attributes: null,
        device_id: a.deviceId,
      },
      {
        fix_ms: full.fixAtMs,
        received_ms: full.receivedAtMs,
        lat: full.lat,
        lon: full.lon,
        speed_kmh: 0.1,
        heading_deg: 359.9,
        altitude_m: -12.5,
        satellites: 255,
        hdop: 0.7,
        ignition: false,
        odometer_km: 9_999_999.9,
        fuel_litres: 4999.5,
        fuel_percent: 100,
        fuel_used_litres: 123_456_789.123,
        battery_v: 0,
        seq: String(2 ** 40 + 3),
        attributes: full.attributes,
        device_id: a.deviceId,
      },
    ]);
  });
});
