/**
 * The simulator's runs as the analytics see them: readings per device, and the truth
 * records to measure the reports against (simulator/truth.ts).
 */
import { simulatePeriod } from '../../simulator/batch.js';
import type { FleetOptions, SimVehicle } from '../../simulator/fleet/index.js';
import type { DayRecord, DrainRecord, RefuelRecord, TruthRecord } from '../../simulator/truth.js';
import type { AnalysisReading } from '../../src/domain/trips.js';

export interface SimulatedRun {
  vehicles: SimVehicle[];
  readings: Map<string, AnalysisReading[]>;
  truth: TruthRecord[];
  days: DayRecord[];
  events: Array<RefuelRecord | DrainRecord>;
}

type Payload = Record<string, unknown>;

const n = (v: unknown): number | null => (typeof v === 'number' ? v : null);

export function toReading(p: Payload): AnalysisReading {
  return {
    fixAtMs: Date.parse(String(p.ts)),
    lat: p.lat as number,
    lon: p.lon as number,
    speedKmh: n(p.speedKmh),
    ignition: typeof p.ignition === 'boolean' ? p.ignition : null,
    odometerKm: n(p.odometerKm),
    hdop: n(p.hdop),
    satellites: n(p.satellites),
    fuelLitres: n(p.fuelLitres),
    fuelPercent: n(p.fuelPercent),
    fuelUsedLitres: n(p.fuelUsedLitres),
  };
}

export function simulate(vehicles: SimVehicle[], options: Omit<FleetOptions, 'vehicles'>, endMs: number): SimulatedRun {
  const { messages, truth } = simulatePeriod({ ...options, vehicles, format: 'armada' }, endMs);
  const readings = new Map<string, AnalysisReading[]>();
  for (const m of messages) {
    let list = readings.get(m.deviceId);
    if (!list) readings.set(m.deviceId, (list = []));
    for (const p of Array.isArray(m.payload) ? m.payload : [m.payload]) list.push(toReading(p as unknown as Payload));
  }
  for (const list of readings.values()) list.sort((a, b) => a.fixAtMs - b.fixAtMs);
  return {
    vehicles,
    readings,
    truth,
    days: truth.filter((r): r is DayRecord => r.type === 'day'),
    events: truth.filter((r): r is RefuelRecord | DrainRecord => (r.type === 'refuel' || r.type === 'drain') && !r.incomplete),
  };
}

/**
 * True events of one kind, with those closer than `mergeGapS` joined as Armada joins them
 * (a pump stopped and restarted is one refuel).
 */
export function mergedTruth<E extends { deviceId: string; startAt: string; endAt: string; litres: number }>(
  events: readonly E[],
  mergeGapS: number,
) {
  const sorted = [...events].sort((a, b) =>
    a.deviceId === b.deviceId ? Date.parse(a.startAt) - Date.parse(b.startAt) : a.deviceId < b.deviceId ? -1 : 1,
  );
  const out: Array<{ deviceId: string; startAt: string; endAt: string; litres: number }> = [];
  for (const e of sorted) {
    const last = out[out.length - 1];
    if (last && last.deviceId === e.deviceId && Date.parse(e.startAt) - Date.parse(last.endAt) <= mergeGapS * 1000) {
      last.litres += e.litres;
      last.endAt = e.endAt;
    } else {
      out.push({ deviceId: e.deviceId, startAt: e.startAt, endAt: e.endAt, litres: e.litres });
    }
  }
  return out;
}

/** Precision and recall of detected events against the truth (same vehicle, beginning within `toleranceMs`). */
export function matchEvents<T extends { deviceId: string; atMs: number; litres: number }>(
  truth: ReadonlyArray<{ deviceId: string; startAt: string; litres: number }>,
  found: readonly T[],
  minLitres: number,
  toleranceMs = 15 * 60_000,
) {
  const relevant = truth.filter((e) => e.litres >= minLitres);
  const near = (f: T, e: { deviceId: string; startAt: string }) =>
    f.deviceId === e.deviceId && Math.abs(f.atMs - Date.parse(e.startAt)) <= toleranceMs;
  const volumeErrors: number[] = [];
  let hits = 0;
  for (const e of relevant) {
    const m = found.find((f) => near(f, e));
    if (m) {
      hits++;
      volumeErrors.push(Math.abs(m.litres - e.litres) / e.litres);
    }
  }
  // A found event counts against precision when it is big enough to claim and matches no true event of any size.
  const claimed = found.filter((f) => f.litres >= minLitres * 0.9);
  const falsePositives = claimed.filter((f) => !truth.some((e) => near(f, e)));
  return {
    truth: relevant.length,
    recall: relevant.length === 0 ? 1 : hits / relevant.length,
    precision: claimed.length === 0 ? 1 : (claimed.length - falsePositives.length) / claimed.length,
    maxVolumeError: volumeErrors.length === 0 ? 0 : Math.max(...volumeErrors),
    falsePositives,
  };
}
