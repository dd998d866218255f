/**
 * The analytics the API serves: a vehicle's trips, stops and fuel over a period, and the
 * fleet fuel report. Long periods read what the rollup job stored per report day; only
 * what the stored days cannot answer (the partial days at the period's edges, today,
 * days with late data waiting, per-request thresholds) is computed from the readings.
 *
 * Stored days and computed windows fit together because the analysis cuts at window
 * edges in a way that adds up (src/domain/analysis.ts): sums add, and trips or stops cut
 * at midnight are joined again.
 */
import { analyseWindow, mergePieces, type AnalysisSettings, type SegmentPiece, type WindowAnalysis } from '../domain/analysis.js';
import type { FuelEvent, FuelSource, VehicleFuelSpec } from '../domain/fuel/index.js';
import { addDays, dayRangeMs, daysOverlapping, localDayOf, type LocalDay } from '../domain/report-time.js';
import type { TripSettings } from '../domain/trips.js';
import type { AnalyticsRepository, RollupRow, VehicleState } from '../repositories/analytics/index.js';
import { addRollupDays, addUnit, emptyTally, resolveTally, type FuelTally } from '../domain/fuel/tally.js';
import { DEFAULT_ANALYTICS_SETTINGS, type AnalyticsSettings } from './settings.js';

export interface AnalysedVehicle extends VehicleFuelSpec {
  id: string;
}

/** Readings fetched around a window, so its edges are judged with what came before and after. */
export function contextMs(trips: TripSettings): { beforeMs: number; afterMs: number } {
  return {
    beforeMs: Math.max(3 * 3600_000, 2 * trips.minGapS * 1000),
    afterMs: Math.max(3600_000, (trips.minGapS + Math.max(trips.minTripDurationS, trips.minStopDurationS)) * 1000),
  };
}

/** A day or a window of a period, stored or computed, in one shape. */
interface PeriodUnit {
  fromMs: number;
  toMs: number;
  stored: boolean;
  segments: SegmentPiece[];
  events: FuelEvent[];
  points: number;
  distanceKm: number;
  distanceOutsideHoursKm: number;
  drivingS: number;
  idleS: number;
  engineS: number;
  maxSpeedKmh: number;
  source: FuelSource;
  usedLitres: number;
  counterLitres: number | null;
  sensorLitres: number | null;
  ratedLitres: number;
  idleLitres: number;
  startLevelLitres: number | null;
  endLevelLitres: number | null;
}

function unitFromAnalysis(a: WindowAnalysis): PeriodUnit {
  return {
    fromMs: a.fromMs,
    toMs: a.toMs,
    stored: false,
    segments: a.segments,
    events: [...a.fuel.refuels, ...a.fuel.drains],
    points: a.metrics.points,
    distanceKm: a.metrics.distanceM / 1000,
    distanceOutsideHoursKm: a.metrics.distanceOutsideHoursM / 1000,
    drivingS: a.metrics.drivingS,
    idleS: a.metrics.idleS,
    engineS: a.metrics.engineS,
    maxSpeedKmh: a.metrics.maxSpeedKmh,
    source: a.fuel.source,
    usedLitres: a.fuel.usedLitres,
    counterLitres: a.fuel.counterLitres,
    sensorLitres: a.fuel.sensorLitres,
    ratedLitres: a.fuel.ratedLitres,
    idleLitres: a.fuel.idleLitres,
    startLevelLitres: a.fuel.startLevelLitres,
    endLevelLitres: a.fuel.endLevelLitres,
  };
}

function unitFromStored(
  fromMs: number,
  toMs: number,
  row: RollupRow | undefined,
  segments: SegmentPiece[],
  events: FuelEvent[],
): PeriodUnit {
  return {
    fromMs,
    toMs,
    stored: true,
    segments,
    events,
    points: row?.points ?? 0,
    distanceKm: row?.distanceKm ?? 0,
    distanceOutsideHoursKm: row?.distanceOutsideHoursKm ?? 0,
    drivingS: row?.drivingS ?? 0,
    idleS: row?.idleS ?? 0,
    engineS: row?.engineS ?? 0,
    maxSpeedKmh: row?.maxSpeedKmh ?? 0,
    source: row?.fuelSource ?? 'rated',
    usedLitres: row?.fuelUsedLitres ?? 0,
    counterLitres: row?.counterLitres ?? null,
    sensorLitres: row?.sensorLitres ?? null,
    ratedLitres: row?.ratedLitres ?? 0,
    idleLitres: row?.idleLitres ?? 0,
    startLevelLitres: row?.startLevelLitres ?? null,
    endLevelLitres: row?.endLevelLitres ?? null,
  };
}

export interface VehiclePeriod {
  fromMs: number;
  toMs: number;
  trips: SegmentPiece[];
  stops: SegmentPiece[];
  fuel: {
    distanceKm: number;
    fuelUsedLitres: number;
    litresPer100Km: number | null;
    idleLitres: number;
    fuelSource: FuelSource;
    ratedLitres: number;
    refuels: FuelEvent[];
    drains: FuelEvent[];
    startLevelLitres: number | null;
    endLevelLitres: number | null;
    drivingS: number;
    idleS: number;
    engineS: number;
    points: number;
    distanceOutsideHoursKm: number;
    maxSpeedKmh: number;
  };
  /** How many report days came from the rollups, and how many windows from readings. */
  storedDays: number;
  computedWindows: number;
}

export interface FleetFuelRow {
  vehicleId: string;
  distanceKm: number;
  fuelUsedLitres: number;
  litresPer100Km: number | null;
  idleLitres: number;
  fuelSource: FuelSource;
  ratedLitres: number;
  refuelCount: number;
  refuelledLitres: number;
  drainCount: number;
  drainedLitres: number;
  engineHours: number;
  idleHours: number;
  drivingHours: number;
  distanceOutsideHoursKm: number;
  tripCount: number;
  points: number;
}

/** Litres per 100 km, when enough was driven for the figure to mean something. */
export const per100Km = (litres: number, km: number): number | null => (km >= 1 ? (100 * litres) / km : null);

/** Adds a stretch's distance, times (in hours), points and trips to a report row, from computed days or rollups alike. */
function addActivity(
  row: {
    distanceKm: number;
    engineHours: number;
    idleHours: number;
    drivingHours: number;
    distanceOutsideHoursKm: number;
    points: number;
    tripCount: number;
  },
  from: { distanceKm: number; engineS: number; idleS: number; drivingS: number; distanceOutsideHoursKm: number; points: number },
  tripCount: number,
): void {
  row.distanceKm += from.distanceKm;
  row.engineHours += from.engineS / 3600;
  row.idleHours += from.idleS / 3600;
  row.drivingHours += from.drivingS / 3600;
  row.distanceOutsideHoursKm += from.distanceOutsideHoursKm;
  row.points += from.points;
  row.tripCount += tripCount;
}

const differs = (over: Partial<TripSettings>, base: TripSettings) =>
  (Object.keys(over) as Array<keyof TripSettings>).some((k) => over[k] !== undefined && over[k] !== base[k]);

/** The service over its repository (built by the composition root, src/services.ts). */
export function createAnalytics(repo: AnalyticsRepository, settings: AnalyticsSettings = DEFAULT_ANALYTICS_SETTINGS) {
  const tz = settings.reportTz;
  const analysisSettings = (trips: TripSettings): AnalysisSettings => ({
    trips,
    fuel: settings.fuel,
    tz,
    workingHours: settings.workingHours,
  });
  const defaultContext = contextMs(settings.trips);

  /** Analyses [fromMs, toMs) of one vehicle from its readings. */
  async function computeWindow(
    vehicle: AnalysedVehicle,
    fromMs: number,
    toMs: number,
    trips: TripSettings = settings.trips,
  ): Promise<WindowAnalysis> {
    const ctx = contextMs(trips);
    const readings = await repo.readings(vehicle.id, fromMs - ctx.beforeMs, toMs + ctx.afterMs);
    return analyseWindow(readings, vehicle, analysisSettings(trips), fromMs, toMs);
  }

  /**
   * A stored day is final once the job computed it with an hour of the next day in hand
   * and no late readings wait for it or its neighbours (whose edges it shares).
   */
  function isFinal(day: LocalDay, endMs: number, state: VehicleState | undefined, late: Set<LocalDay>): boolean {
    if (!state || state.computedAtMs < endMs + defaultContext.afterMs) return false;
    return !late.has(day) && !late.has(addDays(day, -1)) && !late.has(addDays(day, 1));
  }

  function assemble(units: PeriodUnit[], fromMs: number, toMs: number): VehiclePeriod {
    units.sort((a, b) => a.fromMs - b.fromMs);
    const pieces = mergePieces(units.flatMap((u) => u.segments).sort((a, b) => a.startMs - b.startMs));
    const tally: FuelTally = emptyTally();
    let distanceKm = 0;
    let drivingS = 0;
    let idleS = 0;
    let engineS = 0;
    let points = 0;
    let outside = 0;
    let maxSpeedKmh = 0;
    for (const u of units) {
      addUnit(tally, {
        active: u.distanceKm > 0 || u.engineS > 0,
        source: u.source,
        usedLitres: u.usedLitres,
        counterLitres: u.counterLitres,
        sensorLitres: u.sensorLitres,
        ratedLitres: u.ratedLitres,
        idleLitres: u.idleLitres,
      });
      distanceKm += u.distanceKm;
      drivingS += u.drivingS;
      idleS += u.idleS;
      engineS += u.engineS;
      points += u.points;
      outside += u.distanceOutsideHoursKm;
      maxSpeedKmh = Math.max(maxSpeedKmh, u.maxSpeedKmh);
    }
    const { fuelSource, usedLitres } = resolveTally(tally);
    const events = units.flatMap((u) => u.events).sort((a, b) => a.atMs - b.atMs);
    const withLevels = units.filter((u) => u.startLevelLitres !== null);
    return {
      fromMs,
      toMs,
      trips: pieces.filter((p) => p.kind === 'trip'),
      stops: pieces.filter((p) => p.kind === 'stop'),
      fuel: {
        distanceKm,
        fuelUsedLitres: usedLitres,
        litresPer100Km: per100Km(usedLitres, distanceKm),
        idleLitres: tally.idleLitres,
        fuelSource,
        ratedLitres: tally.ratedLitres,
        refuels: events.filter((e) => e.kind === 'refuel'),
        drains: events.filter((e) => e.kind === 'drain'),
        startLevelLitres: withLevels[0]?.startLevelLitres ?? null,
        endLevelLitres: withLevels[withLevels.length - 1]?.endLevelLitres ?? null,
        drivingS,
        idleS,
        engineS,
        points,
        distanceOutsideHoursKm: outside,
        maxSpeedKmh,
      },
      storedDays: units.filter((u) => u.stored).length,
      computedWindows: units.filter((u) => !u.stored).length,
    };
  }

  return {
    settings,
    computeWindow,

    /**
     * Trips, stops and fuel of one vehicle over [fromMs, toMs). With thresholds other than
     * the settings' (`overrides`) everything is computed from the readings.
     */
    async vehiclePeriod(
      vehicle: AnalysedVehicle,
      fromMs: number,
      toMs: number,
      overrides: Partial<TripSettings> = {},
    ): Promise<VehiclePeriod> {
      if (differs(overrides, settings.trips)) {
        const trips = {
          ...settings.trips,
          ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
        } as TripSettings;
        return assemble([unitFromAnalysis(await computeWindow(vehicle, fromMs, toMs, trips))], fromMs, toMs);
      }
      const days = daysOverlapping(tz, fromMs, toMs);
      if (days.length === 0) return assemble([], fromMs, toMs);
      const [states, marks] = await Promise.all([
        repo.states([vehicle.id]),
        repo.lateMarks([vehicle.id], addDays(days[0]!, -1), addDays(days[days.length - 1]!, 1)),
      ]);
      const state = states.get(vehicle.id);
      const late = new Set(marks.map((m) => m.day));
      type Plan = { day: LocalDay; fromMs: number; toMs: number; stored: boolean };
      const plan: Plan[] = days.map((day) => {
        const { startMs, endMs } = dayRangeMs(tz, day);
        const whole = fromMs <= startMs && toMs >= endMs;
        return { day, fromMs: Math.max(fromMs, startMs), toMs: Math.min(toMs, endMs), stored: whole && isFinal(day, endMs, state, late) };
      });
      const storedPlans = plan.filter((p) => p.stored);
      const stored =
        storedPlans.length > 0 ? await repo.storedDays(vehicle.id, storedPlans[0]!.day, storedPlans[storedPlans.length - 1]!.day) : null;
      const units: PeriodUnit[] = [];
      // Adjacent days that need the readings are computed as one window.
      let pending: { fromMs: number; toMs: number } | null = null;
      const flush = async () => {
        if (!pending) return;
        units.push(unitFromAnalysis(await computeWindow(vehicle, pending.fromMs, pending.toMs)));
        pending = null;
      };
      for (const p of plan) {
        if (p.stored) {
          await flush();
          units.push(
            unitFromStored(
              p.fromMs,
              p.toMs,
              stored!.rollups.get(p.day),
              stored!.segments.get(p.day) ?? [],
              stored!.events.get(p.day) ?? [],
            ),
          );
        } else if (pending && pending.toMs === p.fromMs) {
          pending.toMs = p.toMs;
        } else {
          await flush();
          pending = { fromMs: p.fromMs, toMs: p.toMs };
        }
      }
      await flush();
      return assemble(units, fromMs, toMs);
    },

    /**
     * The fleet fuel report: one row per vehicle. Whole days come from the rollups (summed
     * in SQL); partial days at the edges, days the job has not reached and days with late
     * readings waiting are computed from the readings. A period that runs to now reads
     * today's rollup as the job last left it (at most one run behind).
     */
    async fleetFuel(vehicles: readonly AnalysedVehicle[], fromMs: number, toMs: number, nowMs: number): Promise<FleetFuelRow[]> {
      const ids = vehicles.map((v) => v.id);
      const byId = new Map(vehicles.map((v) => [v.id, v]));
      const days = daysOverlapping(tz, fromMs, toMs);
      const tallies = new Map<
        string,
        {
          tally: FuelTally;
          row: Omit<FleetFuelRow, 'vehicleId' | 'fuelUsedLitres' | 'litresPer100Km' | 'fuelSource' | 'idleLitres' | 'ratedLitres'>;
        }
      >();
      for (const id of ids) {
        tallies.set(id, {
          tally: emptyTally(),
          row: {
            distanceKm: 0,
            refuelCount: 0,
            refuelledLitres: 0,
            drainCount: 0,
            drainedLitres: 0,
            engineHours: 0,
            idleHours: 0,
            drivingHours: 0,
            distanceOutsideHoursKm: 0,
            tripCount: 0,
            points: 0,
          },
        });
      }
      const addUnitTo = (id: string, u: PeriodUnit, tripCount: number) => {
        const t = tallies.get(id)!;
        addUnit(t.tally, {
          active: u.distanceKm > 0 || u.engineS > 0,
          source: u.source,
          usedLitres: u.usedLitres,
          counterLitres: u.counterLitres,
          sensorLitres: u.sensorLitres,
          ratedLitres: u.ratedLitres,
          idleLitres: u.idleLitres,
        });
        const r = t.row;
        addActivity(r, u, tripCount);
        for (const e of u.events) {
          if (e.kind === 'refuel') {
            r.refuelCount++;
            r.refuelledLitres += e.litres;
          } else {
            r.drainCount++;
            r.drainedLitres += e.litres;
          }
        }
      };
      const computeFor = async (vehicleIds: readonly string[], a: number, b: number) => {
        if (vehicleIds.length === 0 || !(b > a)) return;
        const readings = await repo.readingsOfVehicles(vehicleIds, a - defaultContext.beforeMs, b + defaultContext.afterMs);
        for (const id of vehicleIds) {
          const analysis = analyseWindow(readings.get(id) ?? [], byId.get(id)!, analysisSettings(settings.trips), a, b);
          addUnitTo(id, unitFromAnalysis(analysis), analysis.segments.filter((s) => s.kind === 'trip' && !s.clippedStart).length);
        }
      };

      if (days.length > 0 && ids.length > 0) {
        const ranges = days.map((day) => ({ day, ...dayRangeMs(tz, day) }));
        // A period that reaches now treats today as whole: its rollup is as current as the job.
        const effectiveTo = toMs >= nowMs ? Math.max(toMs, ranges[ranges.length - 1]!.endMs) : toMs;
        const whole = ranges.filter((r) => fromMs <= r.startMs && effectiveTo >= r.endMs);
        const edges = ranges.filter((r) => !(fromMs <= r.startMs && effectiveTo >= r.endMs));
        for (const e of edges) await computeFor(ids, Math.max(fromMs, e.startMs), Math.min(toMs, e.endMs));
        if (whole.length > 0) {
          const first = whole[0]!.day;
          const last = whole[whole.length - 1]!.day;
          const [states, marks] = await Promise.all([repo.states(ids), repo.lateMarks(ids, first, last)]);
          const lateSet = new Set(marks.map((m) => `${m.vehicleId}|${m.day}`));
          const jobCurrentSince = nowMs - 3 * settings.rollupIntervalS * 1000;
          const skip: Array<{ vehicleId: string; day: LocalDay }> = [];
          const lastEndMs = whole[whole.length - 1]!.endMs;
          for (const id of ids) {
            const state = states.get(id);
            // The common case, every whole day settled and nothing late: nothing to check day by day.
            if (state && state.computedAtMs >= lastEndMs + defaultContext.afterMs && lateSet.size === 0) continue;
            for (const r of whole) {
              const usable =
                !(lateSet.size > 0 && lateSet.has(`${id}|${r.day}`)) &&
                state !== undefined &&
                (state.computedAtMs >= r.endMs + defaultContext.afterMs ||
                  (state.computedAtMs >= jobCurrentSince && state.computedAtMs >= r.startMs));
              if (!usable) skip.push({ vehicleId: id, day: r.day });
            }
          }
          const sums = await repo.rollupSums(ids, first, last, skip);
          for (const [id, s] of sums) {
            const t = tallies.get(id)!;
            addRollupDays(t.tally, s);
            const r = t.row;
            addActivity(r, s, s.tripCount);
            r.refuelCount += s.refuelCount;
            r.refuelledLitres += s.refuelLitres;
            r.drainCount += s.drainCount;
            r.drainedLitres += s.drainLitres;
          }
          // What the rollups could not answer, a day at a time for all its vehicles.
          const skipByDay = new Map<LocalDay, string[]>();
          for (const s of skip) {
            const list = skipByDay.get(s.day) ?? [];
            list.push(s.vehicleId);
            skipByDay.set(s.day, list);
          }
          for (const r of whole) {
            const list = skipByDay.get(r.day);
            if (list) await computeFor(list, r.startMs, Math.min(r.endMs, Math.max(toMs, nowMs)));
          }
        }
      }

      return ids.map((id) => {
        const { tally, row } = tallies.get(id)!;
        const { fuelSource, usedLitres } = resolveTally(tally);
        return {
          vehicleId: id,
          ...row,
          fuelUsedLitres: usedLitres,
          litresPer100Km: per100Km(usedLitres, row.distanceKm),
          idleLitres: tally.idleLitres,
          fuelSource,
          ratedLitres: tally.ratedLitres,
        };
      });
    },

    /** The report day that holds the instant. */
    dayOf: (atMs: number): LocalDay => localDayOf(tz, atMs),
  };
}
export type Analytics = ReturnType<typeof createAnalytics>;
