/**
 * Telemetry retention on the real stores, with a fixed clock: a January 2026 with a
 * working day of telemetry and a receipt is refused while its report months are open and
 * while a receipt has no settled verdict; once closed and settled its partition is
 * detached and dropped, and the fuel report, the savings and the reconciliation of that
 * month answer exactly as before. A late reading for it then goes to quarantine as
 * `beyond_retention` and its partition is not created again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayRangeMs } from '../../src/domain/report-time.js';
import { retentionFor } from '../../src/runtime.js';
import { connectDevice, registerVehicleWithDevice, startTestService, waitFor, type TestService } from '../support/service.js';
import { synthesise, type Phase, type SyntheticRun } from '../support/synthetic-day.js';
import { insertReadings } from '../support/telemetry-rows.js';

const TZ = 'Asia/Makassar';
const DAY = '2026-01-13';
let clock = new Date('2026-01-14T02:00:00Z');
let t: TestService;
let a: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
let run: SyntheticRun;
let financeKey: string;
const before: Record<string, unknown> = {};

function phases(): Phase[] {
  const errand = (m: number): Phase[] => [
    { kind: 'idle', seconds: 60 },
    { kind: 'drive', metres: m, cruiseKmh: 35 },
    { kind: 'park', seconds: 1800 },
  ];
  return [
    { kind: 'park', seconds: 7 * 3600 },
    ...errand(4000),
    { kind: 'refuel', litres: 30 },
    { kind: 'park', seconds: 600 },
    ...errand(6000),
    { kind: 'park', seconds: 8 * 3600 },
  ];
}

const json = async (path: string, key?: string) => {
  const res = await t.api(path, key ? { key } : {});
  expect(res.status, path).toBe(200);
  return res.json();
};
const reports = async () => ({
  fuel: await json('/api/v1/reports/fuel?from=2026-01-01&to=2026-01-31'),
  fuelDay: await json(`/api/v1/reports/fuel?from=${DAY}&to=${DAY}`),
  savings: await json('/api/v1/reports/savings?month=2026-01'),
  reconciliation: await json('/api/v1/reconciliation?month=2026-01'),
});
const retention = () => retentionFor(t.services.config, t.services.repos);
const partitionExists = async (name: string) =>
  (await t.testDb.database.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [name]))[0]!.present;

beforeAll(async () => {
  t = await startTestService({
    roles: { api: true, worker: true },
    now: () => clock,
    env: { TELEMETRY_RETENTION_MONTHS: '4', MAX_AGE_DAYS: '3650' },
  });
  a = await registerVehicleWithDevice(t, { plate: 'DH 7101 RT', tankCapacityLitres: 60 });
  run = synthesise({ tankCapacityLitres: 60, ratedLitresPer100Km: 10, idleLitresPerHour: 0.8 }, phases(), {
    startMs: dayRangeMs(TZ, DAY).startMs,
    seed: 7,
    startLitres: 10,
  });
  await t.testDb.database.query(
    `INSERT INTO fuel_prices (fuel_type, price_idr_per_litre, valid_from, source) VALUES ('pertalite', 10000, '2025-01-01', 'test')`,
  );
  financeKey = (
    (await (await t.api('/api/v1/api-keys', { method: 'POST', json: { name: 'finance', role: 'finance' } })).json()) as { key: string }
  ).key;
  await insertReadings(t.testDb.database, a, run.readings, clock.getTime());
  await t.services.rollups.runOnce();
  const fill = run.events.find((e) => e.kind === 'refuel')!;
  const res = await t.api('/api/v1/fuel-purchases', {
    method: 'POST',
    key: financeKey,
    json: {
      vehicleId: a.vehicleId,
      at: new Date(fill.endMs + 240_000).toISOString(),
      litres: 30.1,
      amountIdr: 301_000,
      fuelType: 'pertalite',
      receiptNo: 'R-JAN-1',
    },
  });
  expect(res.status).toBe(201);
  clock = new Date('2026-01-20T02:00:00Z');
  await t.services.rollups.runOnce();
  await t.services.settle.runOnce();
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('a month is dropped only when closed and settled', () => {
  it('refuses January while its report months are open', async () => {
    const plan = await retention().run(Date.parse('2026-06-15T00:00:00Z'), { dryRun: true });
    expect(plan.newestDroppable).toBe('2026-01');
    const jan = plan.decisions.find((d) => d.month === '2026-01')!;
    expect(jan).toMatchObject({ action: 'refuse' });
    expect(jan.reason).toContain('2026-01');
    expect(jan.reason).toContain('not closed');
    for (const d of plan.decisions) if (d.month > '2026-01') expect(d.action, d.month).toBe('keep');
  });

  it('refuses it while a receipt of the month has no settled verdict', async () => {
    clock = new Date('2026-03-05T02:00:00Z');
    const close = (month: string) => t.api('/api/v1/month-closings', { method: 'POST', key: financeKey, json: { month } });
    // The partition of January (UTC) also holds the first 8 hours of February in Makassar.
    expect((await close('2026-01')).status).toBe(201);
    let plan = await retention().run(Date.parse('2026-06-15T00:00:00Z'), { dryRun: true });
    expect(plan.decisions.find((d) => d.month === '2026-01')!.reason).toContain('report month 2026-02');
    expect((await close('2026-02')).status).toBe(201);
    const late = await t.api('/api/v1/fuel-purchases', {
      method: 'POST',
      key: financeKey,
      json: {
        vehicleId: a.vehicleId,
        at: '2026-01-25T10:00:00+08:00',
        litres: 5,
        amountIdr: 50_000,
        fuelType: 'pertalite',
        receiptNo: 'R-LATE',
      },
    });
    expect(late.status).toBe(201);
    plan = await retention().run(Date.parse('2026-06-15T00:00:00Z'), { dryRun: true });
    const jan = plan.decisions.find((d) => d.month === '2026-01')!;
    expect(jan.action).toBe('refuse');
    expect(jan.reason).toContain('no settled verdict');
    // Without telemetry near it, its verdict settles once FINANCE_TELEMETRY_WAIT_H has passed since it was recorded.
    clock = new Date('2026-03-09T02:00:00Z');
    await t.services.settle.runOnce();
    plan = await retention().run(Date.parse('2026-06-15T00:00:00Z'), { dryRun: true });
    expect(
      plan.decisions.find((d) => d.month === '2026-01'),
      JSON.stringify(plan.decisions[0]),
    ).toMatchObject({ action: 'drop' });
    expect(plan.dropped).toEqual([]);
    expect(await partitionExists('telemetry_2026_01')).toBe(true);
  });
});

describe('a dropped month', () => {
  it('reports and reconciles as before the drop', async () => {
    Object.assign(before, await reports());
    const fuel = before.fuel as Array<{ vehicleId: string; distanceKm: number; refuelCount: number }>;
    expect(fuel.find((r) => r.vehicleId === a.vehicleId)!.distanceKm).toBeGreaterThan(5);
    expect(fuel.find((r) => r.vehicleId === a.vehicleId)!.refuelCount).toBe(1);
    const done = await retention().run(Date.parse('2026-06-15T00:00:00Z'), { dryRun: false });
    expect(done.dropped).toEqual(['2026-01']);
    expect(await partitionExists('telemetry_2026_01')).toBe(false);
    const raw = await t.testDb.database.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM telemetry WHERE fix_at < '2026-02-01T00:00:00Z'`,
    );
    expect(raw[0]!.n).toBe(0);
    expect(await reports()).toEqual(before);
    // Kept for good: rollups, verdicts, ledger.
    const [kept] = await t.testDb.database.query<{ days: number; verdicts: number }>(
      `SELECT (SELECT count(*)::int FROM vehicle_day_rollups WHERE day = $1) AS days,
              (SELECT count(*)::int FROM purchase_verdicts) AS verdicts`,
      [DAY],
    );
    expect(kept).toEqual({ days: 1, verdicts: 2 });
    const verify = (await json('/api/v1/fuel-purchases/verify')) as { ok: boolean };
    expect(verify.ok).toBe(true);
  });

  it('sends a late reading for it to quarantine as beyond_retention, without recreating its partition', async () => {
    const device = await connectDevice(t.deviceMqttUrl, a.deviceId, a.secret);
    try {
      const payload = JSON.stringify({ ts: `${DAY}T03:00:00Z`, lat: -10.17, lon: 123.6, speedKmh: 0 });
      await device.publishAsync(`fleet/v1/devices/${a.deviceId}/telemetry`, payload, { qos: 1 });
      const row = await waitFor(async () => {
        const rows = await t.testDb.database.query<{ reason: string; detail: string }>(
          `SELECT reason, detail FROM quarantine WHERE device_id = $1`,
          [a.deviceId],
        );
        return rows[0];
      }, 'the late reading in quarantine');
      expect(row.reason).toBe('beyond_retention');
      expect(await partitionExists('telemetry_2026_01')).toBe(false);
      // A reading in a kept month still goes in.
      await device.publishAsync(
        `fleet/v1/devices/${a.deviceId}/telemetry`,
        JSON.stringify({ ts: '2026-03-04T03:00:00Z', lat: -10.17, lon: 123.6 }),
        { qos: 1 },
      );
      await waitFor(
        async () =>
          (
            await t.testDb.database.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry WHERE vehicle_id = $1 AND fix_at = $2', [
              a.vehicleId,
              '2026-03-04T03:00:00Z',
            ])
          )[0]!.n === 1,
        'the reading of a kept month stored',
      );
    } finally {
      await device.endAsync();
    }
    await t.services.rollups.runOnce();
    expect(await reports()).toEqual(before);
  });

  it('the database refuses to create a dropped month again', async () => {
    await expect(t.testDb.database.query('SELECT armada_ensure_telemetry_partition($1)', ['2026-01-20T00:00:00Z'])).rejects.toThrow(
      /beyond retention/,
    );
    await expect(t.testDb.database.query('SELECT armada_ensure_telemetry_partition($1)', ['2025-11-20T00:00:00Z'])).rejects.toThrow(
      /beyond retention/,
    );
  });
});
