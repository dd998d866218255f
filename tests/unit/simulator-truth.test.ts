/**
 * The ground truth is the reference for report accuracy, so it must be consistent with
 * itself (the tank balances, the parts add up to the totals) and with what the trackers
 * sent (refuels and drains where and when the readings show them; receipts honest or
 * fraudulent as labelled).
 */
import { describe, expect, it } from 'vitest';
import { demoSimVehicle, demoVehicles } from '../../simulator/demo-fleet.js';
import { simulatePeriod } from '../../simulator/batch.js';
import { witaDate, witaMinuteOfDay } from '../../simulator/calendar.js';
import type { ReadingTruth, SimVehicle } from '../../simulator/fleet/index.js';
import type { ArmadaPayload } from '../../simulator/formats.js';
import { distanceM, isInKupang, kupangFuelStations } from '../../simulator/kupang.js';
import type {
  DayRecord,
  DrainRecord,
  ReceiptRecord,
  RefuelRecord,
  StopRecord,
  Totals,
  TripRecord,
  TruthRecord,
  VehicleRecord,
} from '../../simulator/truth.js';
import { fuelPriceOn, type PriceFuelType } from '../../simulator/fuel-prices.js';

const DAY_MS = 86_400_000;
const MONDAY_MS = Date.parse('2026-11-02T00:00:00+08:00');
const demoFleet: SimVehicle[] = demoVehicles.map((v) => demoSimVehicle(v));

const FRAUD = { inflated: 0.2, phantom: 0.3, elsewhere: 0.2 };
/** A working week of the demo fleet with events far more frequent than the defaults, so that each kind shows up. */
const run = simulatePeriod(
  {
    vehicles: demoFleet,
    seed: 21,
    startMs: MONDAY_MS,
    readingTruth: true,
    drainRatePerDay: 0.1,
    fraud: FRAUD,
    afterHoursRatePerDay: 0.15,
    outOfCityRatePerDay: 0.2,
  },
  MONDAY_MS + 5 * DAY_MS,
);

const of = <T extends TruthRecord>(type: T['type']) => run.truth.filter((r): r is T => r.type === type);
const vehicles = of<VehicleRecord>('vehicle');
const days = of<DayRecord>('day');
const refuels = of<RefuelRecord>('refuel');
const drains = of<DrainRecord>('drain');
const receipts = of<ReceiptRecord>('receipt');
const trips = of<TripRecord>('trip');
const stops = of<StopRecord>('stop');

interface Reading {
  payload: ArmadaPayload;
  truth: ReadingTruth;
}
const readingsByDevice = new Map<string, Reading[]>();
for (const m of run.messages) {
  const list = readingsByDevice.get(m.deviceId) ?? [];
  const payloads = (Array.isArray(m.payload) ? m.payload : [m.payload]) as ArmadaPayload[];
  payloads.forEach((payload, i) => list.push({ payload, truth: m.truth![i]! }));
  readingsByDevice.set(m.deviceId, list);
}
for (const list of readingsByDevice.values()) list.sort((a, b) => a.truth.atMs - b.truth.atMs);

/** A device's readings in [from, to], by binary search in its time-ordered list. */
function within(deviceId: string, fromIso: string, toIso: string): Reading[] {
  const list = readingsByDevice.get(deviceId)!;
  const fromMs = Date.parse(fromIso);
  const toMs = Date.parse(toIso);
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.truth.atMs < fromMs) lo = mid + 1;
    else hi = mid;
  }
  const out: Reading[] = [];
  for (let i = lo; i < list.length && list[i]!.truth.atMs <= toMs; i++) out.push(list[i]!);
  return out;
}

const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((a, x) => a + f(x), 0);

function balance(t: Totals): number {
  return t.startLevelLitres - t.endLevelLitres + t.refuelledLitres - t.drainedLitres - t.litresUsed;
}

describe('ground truth: consistency', () => {
  it('starts with the run and ends with one summary per vehicle', () => {
    expect(run.truth[0]!.type).toBe('run');
    expect(run.truth.slice(-vehicles.length).every((r) => r.type === 'vehicle')).toBe(true);
    expect(vehicles.map((v) => v.deviceId).sort()).toEqual(demoFleet.map((v) => v.deviceId).sort());
  });

  it('balances every tank: start − end + refuelled − drained = litres used, per vehicle and per day', () => {
    for (const t of [...vehicles, ...days])
      expect(Math.abs(balance(t)), `${t.plateNumber} ${t.type === 'day' ? t.date : ''}`).toBeLessThan(1e-5);
  });

  it('adds the days up to the vehicle totals, and the events to the days', () => {
    for (const v of vehicles) {
      const mine = days.filter((d) => d.deviceId === v.deviceId);
      expect(mine).toHaveLength(5);
      expect(mine[0]!.startLevelLitres).toBe(v.startLevelLitres);
      expect(mine.at(-1)!.endLevelLitres).toBe(v.endLevelLitres);
      for (const key of ['distanceKm', 'litresUsed', 'refuelledLitres', 'drainedLitres', 'idleHours', 'engineHours'] as const) {
        expect(
          sum(mine, (d) => d[key]),
          `${v.plateNumber} ${key}`,
        ).toBeCloseTo(v[key], 4);
      }
      expect(
        sum(
          refuels.filter((r) => r.deviceId === v.deviceId),
          (r) => r.litres,
        ),
      ).toBeCloseTo(v.refuelledLitres, 4);
      expect(
        sum(
          drains.filter((r) => r.deviceId === v.deviceId),
          (r) => r.litres,
        ),
      ).toBeCloseTo(v.drainedLitres, 4);
      expect(
        sum(
          trips.filter((r) => r.deviceId === v.deviceId),
          (r) => r.distanceKm,
        ),
      ).toBeCloseTo(v.distanceKm, 4);
      expect(v.endOdometerKm - v.startOdometerKm).toBeCloseTo(v.distanceKm, 4);
      expect(v.refuels).toBe(refuels.filter((r) => r.deviceId === v.deviceId).length);
    }
  });

  it('alternates stops and trips without gaps or overlaps', () => {
    for (const v of vehicles) {
      const timeline = [...stops, ...trips]
        .filter((r) => r.deviceId === v.deviceId)
        .sort((a, b) => Date.parse(a.startAt) - Date.parse(b.startAt) || (a.type === 'stop' ? -1 : 1));
      expect(timeline[0]!.startAt).toBe(new Date(MONDAY_MS).toISOString());
      expect(timeline.at(-1)!.endAt).toBe(new Date(MONDAY_MS + 5 * DAY_MS).toISOString());
      for (let i = 1; i < timeline.length; i++) {
        expect(timeline[i]!.startAt, `${v.plateNumber} #${i}`).toBe(timeline[i - 1]!.endAt);
        expect(timeline[i]!.type).not.toBe(timeline[i - 1]!.type);
      }
    }
  });

  it('measures trips along the true path, which the GPS track roughly follows', () => {
    const long = trips.filter((t) => t.distanceKm > 3 && !t.incomplete).slice(0, 40);
    for (const t of long) {
      const track = within(t.deviceId, t.startAt, t.endAt).filter((r) => r.truth.badFix === null);
      let trackM = 0;
      for (let i = 1; i < track.length; i++) trackM += distanceM(track[i - 1]!.truth, track[i]!.truth);
      // Readings every 10 s cut corners: the sampled path is a little shorter, never longer.
      expect(trackM / 1000).toBeLessThanOrEqual(t.distanceKm * 1.001);
      expect(trackM / 1000).toBeGreaterThan(t.distanceKm * 0.9);
    }
  });
});

describe('ground truth: events as the trackers show them', () => {
  it('refuels at fuel stations, standing with the ignition off, over minutes for big fills', () => {
    expect(refuels.length).toBeGreaterThan(40);
    for (const r of refuels) {
      expect(Math.min(...kupangFuelStations.map((s) => distanceM(s, r)))).toBeLessThan(1);
      for (const { payload } of within(r.deviceId, r.startAt, r.endAt)) {
        expect(payload.speedKmh).toBe(0);
        expect(payload.ignition).toBe(false);
      }
      const pumpS = (Date.parse(r.endAt) - Date.parse(r.startAt)) / 1000;
      if (r.litres >= 50) expect(pumpS).toBeGreaterThanOrEqual(60);
      expect(r.levelAfterLitres).toBeCloseTo(r.levelBeforeLitres + r.litres, 5);
    }
  });

  it('shows each refuel of 10 L or more as a rise of the level sensor while standing', () => {
    const litreSensors = new Set(demoFleet.filter((v) => v.sensor === 'litres').map((v) => v.deviceId));
    const visible = refuels.filter((r) => litreSensors.has(r.deviceId) && r.litres >= 10 && !r.incomplete);
    expect(visible.length).toBeGreaterThan(12);
    for (const r of visible) {
      const stop = stops.find((s) => s.deviceId === r.deviceId && s.startAt <= r.startAt && s.endAt >= r.endAt)!;
      const standing = within(r.deviceId, stop.startAt, stop.endAt).filter((x) => x.payload.speedKmh === 0);
      const before = standing.filter((x) => x.truth.atMs <= Date.parse(r.startAt)).map((x) => x.payload.fuelLitres!);
      const after = standing.filter((x) => x.truth.atMs >= Date.parse(r.endAt)).map((x) => x.payload.fuelLitres!);
      expect(before.length, `${r.plateNumber} ${r.startAt}`).toBeGreaterThan(0);
      expect(after.length, `${r.plateNumber} ${r.startAt}`).toBeGreaterThan(0);
      const rise = after.reduce((a, b) => a + b, 0) / after.length - before.reduce((a, b) => a + b, 0) / before.length;
      // Sensor noise σ 0.4 L on one or two readings each side.
      expect(Math.abs(rise - r.litres), `${r.plateNumber} ${r.startAt}`).toBeLessThan(0.05 * r.litres + 2);
    }
  });

  it('drains standing still, mostly at night with the ignition off, over minutes', () => {
    expect(drains.length).toBeGreaterThan(10);
    for (const d of drains) {
      for (const { payload } of within(d.deviceId, d.startAt, d.endAt)) expect(payload.speedKmh).toBe(0);
      expect((Date.parse(d.endAt) - Date.parse(d.startAt)) / 1000).toBeGreaterThanOrEqual(120);
      expect(d.levelAfterLitres).toBeLessThan(d.levelBeforeLitres);
    }
    const nightHour = (iso: string) => {
      const h = witaMinuteOfDay(Date.parse(iso)) / 60;
      return h >= 21 || h < 5;
    };
    expect(drains.filter((d) => nightHour(d.startAt)).length).toBeGreaterThanOrEqual(0.8 * drains.length);
    expect(drains.filter((d) => !d.ignition).length).toBeGreaterThan(0.5 * drains.length);
  });

  it('gives every completed refuel one receipt at that station, honest unless labelled', () => {
    for (const r of refuels.filter((x) => !x.incomplete)) {
      const mine = receipts.filter((x) => x.deviceId === r.deviceId && x.refuelEndAt === r.endAt);
      expect(mine).toHaveLength(1);
      const receipt = mine[0]!;
      expect(receipt.station).toBe(r.station);
      expect(receipt.filledLitres).toBeCloseTo(r.litres, 5);
      if (receipt.fraud === null) expect(Math.abs(receipt.litres - r.litres)).toBeLessThanOrEqual(0.005 + 1e-9);
      else {
        expect(receipt.fraud).toBe('inflated');
        expect(receipt.litres).toBeGreaterThan(1.1 * r.litres);
      }
    }
    for (const receipt of receipts) {
      // Priced at the dated table's price in force on the receipt's day in Kupang.
      const price = fuelPriceOn(receipt.fuelType as PriceFuelType, witaDate(Date.parse(receipt.at)));
      expect(receipt.priceIdrPerLitre).toBe(price);
      expect(receipt.amountIdr).toBe(Math.round(receipt.litres * price));
      expect(receipt.receiptNo).toMatch(/^54\.851\.\d{2}-\d{12}-\d{4}$/);
      expect(receipt.receiptNo.startsWith(`${receipt.stationCode}-`)).toBe(true);
    }
    expect(new Set(receipts.map((r) => r.receiptNo)).size).toBe(receipts.length);
  });

  it('labels phantom receipts: a stop at the station, and no fuel', () => {
    const phantoms = receipts.filter((r) => r.fraud === 'phantom');
    expect(phantoms.length).toBeGreaterThan(3);
    for (const p of phantoms) {
      expect(p.filledLitres).toBe(0);
      const at = Date.parse(p.at);
      expect(refuels.filter((r) => r.deviceId === p.deviceId && Math.abs(Date.parse(r.endAt) - at) < 3600_000)).toEqual([]);
      const stop = stops.find(
        (s) =>
          s.deviceId === p.deviceId &&
          s.place === p.station &&
          s.activities.includes('wait') &&
          Date.parse(s.startAt) <= at &&
          Date.parse(s.endAt) >= at,
      );
      expect(stop, `${p.plateNumber} ${p.at}`).toBeDefined();
    }
  });

  it('labels receipts from where the vehicle was not: at least 3 km away at that time', () => {
    const elsewhere = receipts.filter((r) => r.fraud === 'elsewhere');
    expect(elsewhere.length).toBeGreaterThan(3);
    for (const e of elsewhere) {
      const at = Date.parse(e.at);
      const stop = stops.find((s) => s.deviceId === e.deviceId && Date.parse(s.startAt) <= at && Date.parse(s.endAt) >= at);
      expect(stop, `${e.plateNumber} ${e.at}`).toBeDefined();
      expect(distanceM(stop!, e)).toBeGreaterThanOrEqual(3000);
      expect(e.filledLitres).toBe(0);
    }
  });

  it('inflates receipts at about the configured rate', () => {
    const completed = refuels.filter((r) => !r.incomplete).length;
    const inflated = receipts.filter((r) => r.fraud === 'inflated').length;
    // Binomial: within four standard deviations of the configured fraction.
    const sigma = Math.sqrt(completed * FRAUD.inflated * (1 - FRAUD.inflated));
    expect(Math.abs(inflated - completed * FRAUD.inflated)).toBeLessThan(4 * sigma);
  });

  it('marks private trips as outside working hours and trips out of Kupang as leaving the city', () => {
    const privateTrips = trips.filter((t) => t.purpose === 'private');
    expect(privateTrips.length).toBeGreaterThan(3);
    for (const t of privateTrips) expect(t.outsideWorkingHours).toBe(true);
    const away = trips.filter((t) => t.purpose === 'out-of-city');
    expect(away.length).toBeGreaterThan(3);
    for (const t of away) {
      expect(t.leftCity).toBe(true);
      expect(isInKupang(t.end)).toBe(false);
    }
    for (const t of trips.filter((x) => x.leftCity)) {
      expect(
        within(t.deviceId, t.startAt, t.endAt).some((r) => !isInKupang(r.truth)),
        `${t.plateNumber} ${t.startAt}`,
      ).toBe(true);
    }
    for (const t of trips.filter((x) => !x.leftCity)) {
      expect(
        within(t.deviceId, t.startAt, t.endAt).every((r) => isInKupang(r.truth)),
        `${t.plateNumber} ${t.startAt}`,
      ).toBe(true);
    }
  });
});
