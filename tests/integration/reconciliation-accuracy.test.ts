/**
 * The reconciliation's accuracy against the simulator's truth (issue 11): over ten seeds
 * of vehicles that report a tank level, with fraudulent receipts (inflated, phantom,
 * elsewhere: simulator/truth.ts), the readings go through the database and the rollup
 * job, the receipts through POST /fuel-purchases, and the verdicts are read from GET
 * /reconciliation after the settle job ran. At least 95 % of fraudulent receipts are
 * flagged, and at most 2 % of honest ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedFleet } from '../../simulator/sim-fleet.js';
import type { ReceiptRecord } from '../../simulator/truth.js';
import { NTT_FUEL_PRICES } from '../../simulator/fuel-prices.js';
import { dayRangeMs } from '../../src/domain/report-time.js';
import { startTestService, type TestService } from '../support/service.js';
import { simulate } from '../support/sim-truth.js';
import { insertReadings } from '../support/telemetry-rows.js';

const TZ = 'Asia/Makassar';
const SEEDS = [101, 102, 103, 104, 105, 106, 107, 108, 109, 110];
const VEHICLES_PER_SEED = 5;
const DAYS = 4;
const START_MS = dayRangeMs(TZ, '2026-03-02').startMs;
const END_MS = START_MS + DAYS * 86_400_000;
/** Receipts this close to the run's edges are left out: the tank's readings around them are cut off. */
const EDGE_MS = 3 * 3600_000;
let clock = new Date(END_MS);
let t: TestService;
const receipts: Array<{ truth: ReceiptRecord; purchaseId: string; seed: number }> = [];

type Report = { purchases: Array<{ purchaseId: string; status: string; flags: Array<{ kind: string; detail: string }> }> };

beforeAll(async () => {
  t = await startTestService({ roles: { api: true, worker: false }, listen: false, now: () => clock });
  // The price table the simulator's receipts use.
  for (const p of NTT_FUEL_PRICES) {
    await t.testDb.database.query(`INSERT INTO fuel_prices (fuel_type, price_idr_per_litre, valid_from, source) VALUES ($1, $2, $3, $4)`, [
      p.fuelType,
      p.priceIdrPerLitre,
      p.validFrom,
      p.source,
    ]);
  }
  const dep = (await (await t.api('/api/v1/departments', { method: 'POST', json: { code: 'SIMREC', name: 'Simulated' } })).json()) as {
    id: string;
  };
  // Vehicles that report a level (a sensor in litres or percent, or a CAN level with the counter), a different few per seed.
  const withLevel = simulatedFleet(33, 'armada').filter(
    (v) => v.sensor !== 'none' && !(v.sensor === 'counter' && v.counterWithLevel === false),
  );
  const pending: Array<{ record: ReceiptRecord; vehicleId: string; seed: number }> = [];
  for (const [i, seed] of SEEDS.entries()) {
    const fleet = Array.from({ length: VEHICLES_PER_SEED }, (_, k) => withLevel[(i * VEHICLES_PER_SEED + k) % withLevel.length]!);
    const sim = simulate(
      fleet,
      { seed, startMs: START_MS, schedule: 'realistic', fraud: { inflated: 0.35, phantom: 0.35, elsewhere: 0.35 } },
      END_MS,
    );
    for (const v of fleet) {
      const res = await t.api('/api/v1/vehicles', {
        method: 'POST',
        json: {
          plateNumber: `${v.plateNumber} S${seed}`,
          departmentId: dep.id,
          kind: v.kind ?? 'car',
          fuelType: v.fuelType ?? 'pertalite',
          tankCapacityLitres: v.tankCapacityLitres,
          ratedLitresPer100Km: v.ratedLitresPer100Km,
          idleLitresPerHour: v.idleLitresPerHour,
          monthlyAllocationLitres: 500,
        },
      });
      const vehicle = (await res.json()) as { id: string };
      const deviceId = `${v.deviceId}-s${seed}`;
      expect((await t.api('/api/v1/devices', { method: 'POST', json: { id: deviceId, vehicleId: vehicle.id } })).status).toBe(201);
      await insertReadings(t.testDb.database, { vehicleId: vehicle.id, deviceId }, sim.readings.get(v.deviceId) ?? [], END_MS);
      for (const r of sim.truth)
        if (r.type === 'receipt' && r.deviceId === v.deviceId) pending.push({ record: r, vehicleId: vehicle.id, seed });
    }
  }
  clock = new Date(END_MS + 4 * 86_400_000);
  await t.services.rollups.runOnce();
  const financeKey = (
    (await (await t.api('/api/v1/api-keys', { method: 'POST', json: { name: 'finance', role: 'finance' } })).json()) as { key: string }
  ).key;
  for (const { record: r, vehicleId, seed } of pending) {
    const res = await t.api('/api/v1/fuel-purchases', {
      method: 'POST',
      key: financeKey,
      json: {
        vehicleId,
        at: r.at,
        litres: r.litres,
        amountIdr: r.amountIdr,
        fuelType: r.fuelType,
        lat: r.lat,
        lon: r.lon,
        receiptNo: `${r.receiptNo}-s${seed}`,
      },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    receipts.push({ truth: r, purchaseId: ((await res.json()) as { id: string }).id, seed });
  }
  await t.services.settle.runOnce();
}, 240_000);

afterAll(async () => {
  await t?.close();
});

describe('reconciliation against the simulator’s truth', () => {
  it('flags at least 95 % of fraudulent receipts and at most 2 % of honest ones', async () => {
    const report = (await (await t.api('/api/v1/reconciliation?month=2026-03')).json()) as Report;
    const byId = new Map(report.purchases.map((p) => [p.purchaseId, p]));
    const counted = receipts.filter((r) => Date.parse(r.truth.at) >= START_MS + EDGE_MS && Date.parse(r.truth.at) <= END_MS - EDGE_MS);
    const fraud = counted.filter((r) => r.truth.fraud !== null);
    const honest = counted.filter((r) => r.truth.fraud === null);
    const flagged = (r: (typeof counted)[number]) => byId.get(r.purchaseId)!.status === 'flagged';
    const missed = fraud.filter((r) => !flagged(r));
    const falseAlarms = honest.filter(flagged);
    const describe = (r: (typeof counted)[number]) =>
      `seed ${r.seed} ${r.truth.plateNumber} ${r.truth.at} ${r.truth.fraud ?? 'honest'} ${r.truth.litres} L (filled ` +
      `${r.truth.filledLitres}): ${byId.get(r.purchaseId)!.status} ${JSON.stringify(byId.get(r.purchaseId)!.flags)}`;
    // Enough of each kind for the rates to mean something.
    expect(fraud.length).toBeGreaterThanOrEqual(20);
    expect(honest.length).toBeGreaterThanOrEqual(20);
    for (const kind of ['inflated', 'phantom', 'elsewhere'])
      expect(fraud.filter((r) => r.truth.fraud === kind).length, kind).toBeGreaterThanOrEqual(3);
    // Every verdict settled: the analytics of these days are final.
    expect(counted.every((r) => byId.get(r.purchaseId)!.status !== 'pending')).toBe(true);
    expect((fraud.length - missed.length) / fraud.length, missed.map(describe).join('\n')).toBeGreaterThanOrEqual(0.95);
    expect(falseAlarms.length / honest.length, falseAlarms.map(describe).join('\n')).toBeLessThanOrEqual(0.02);
  });
});
