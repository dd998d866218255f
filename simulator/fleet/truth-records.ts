/**
 * The truth records of a vehicle's movement and tank (simulator/truth.ts gives their
 * format): trips, stops, refuels, drains, days and the vehicle's summary, each written
 * here and nowhere else. Receipts are written with the fuel stops (fuel-stops.ts), the
 * coverage gaps with the tracker's faults (tracker-faults.ts).
 */
import { isDutyTime, witaDate, witaDayIndex, witaDayStartMs } from '../calendar.js';
import { mpsToKmh } from '../movement.js';
import { Accumulator, round6, type PlaceRef, type StopActivity } from '../truth.js';
import { emit, type Context, type DrainActivity, type RefuelActivity, type VehicleState } from './state.js';
import { round1, round6LatLon } from './units.js';

export function vehicleRef(s: VehicleState) {
  return { deviceId: s.setup.spec.deviceId, plateNumber: s.setup.plateNumber };
}

export function placeRef(s: VehicleState): PlaceRef {
  const p = round6LatLon(s.kin.position);
  return { lat: p.lat, lon: p.lon, place: s.place?.name ?? null };
}

const incompleteMark = (incomplete: boolean) => (incomplete ? { incomplete: true as const } : {});

export function openStop(s: VehicleState): void {
  s.stop = { startS: s.tS, position: { ...s.kin.position }, placeName: s.place?.name ?? null, engineOnS: 0, activities: [] };
}

/** What the vehicle does at the open stop, once per change. */
export function noteActivity(s: VehicleState, activity: StopActivity): void {
  if (s.stop && s.stop.activities.at(-1) !== activity) s.stop.activities.push(activity);
}

export function closeStop(s: VehicleState, ctx: Context, incomplete: boolean): void {
  const stop = s.stop;
  s.stop = null;
  if (!stop || s.tS === stop.startS) return;
  const p = round6LatLon(stop.position);
  emit(s, {
    type: 'stop',
    ...vehicleRef(s),
    startAt: ctx.iso(stop.startS),
    endAt: ctx.iso(s.tS),
    durationS: s.tS - stop.startS,
    lat: p.lat,
    lon: p.lon,
    place: stop.placeName,
    engineOnS: stop.engineOnS,
    activities: stop.activities,
    ...incompleteMark(incomplete),
  });
}

export function closeTrip(s: VehicleState, ctx: Context, incomplete: boolean): void {
  const trip = s.trip;
  s.trip = null;
  if (!trip) return;
  s.run.trips += 1;
  s.day.trips += 1;
  emit(s, {
    type: 'trip',
    ...vehicleRef(s),
    startAt: ctx.iso(trip.startS),
    endAt: ctx.iso(s.tS),
    durationS: s.tS - trip.startS,
    distanceKm: round6(trip.distanceM / 1000),
    litresUsed: round6(trip.litresUsed),
    idleS: trip.idleS,
    maxSpeedKmh: round1(mpsToKmh(trip.maxSpeedMps)),
    start: trip.start,
    end: placeRef(s),
    purpose: trip.purpose,
    outsideWorkingHours: !isDutyTime(s.setup.duty, ctx.opts.startMs + trip.startS * 1000),
    leftCity: trip.leftCity,
    ...incompleteMark(incomplete),
  });
}

/**
 * A refuel, counted and recorded: the pump ran from pumpFromS to `untilS` and put in
 * `litres` (the whole fill, or what it had put in when the run ended: `incomplete`).
 */
export function recordRefuel(s: VehicleState, ctx: Context, a: RefuelActivity, untilS: number, litres: number, incomplete: boolean): void {
  s.run.refuels += 1;
  s.day.refuels += 1;
  emit(s, {
    type: 'refuel',
    ...vehicleRef(s),
    startAt: ctx.iso(a.pumpFromS),
    endAt: ctx.iso(untilS),
    lat: a.station.lat,
    lon: a.station.lon,
    station: a.station.name,
    litres: round6(litres),
    levelBeforeLitres: round6(a.levelBeforeLitres),
    levelAfterLitres: round6(a.levelBeforeLitres + litres),
    ...incompleteMark(incomplete),
  });
}

/** A drain, counted and recorded, from its start to `untilS` (its planned end, or the run's end: `incomplete`). */
export function recordDrain(s: VehicleState, ctx: Context, a: DrainActivity, untilS: number, incomplete: boolean): void {
  s.run.drains += 1;
  s.day.drains += 1;
  const p = round6LatLon(s.kin.position);
  emit(s, {
    type: 'drain',
    ...vehicleRef(s),
    startAt: ctx.iso(a.fromS),
    endAt: ctx.iso(untilS),
    lat: p.lat,
    lon: p.lon,
    place: s.place?.name ?? null,
    litres: round6(a.takenLitres),
    ignition: a.ignition,
    levelBeforeLitres: round6(a.levelBeforeLitres),
    levelAfterLitres: round6(s.levelLitres),
    ...incompleteMark(incomplete),
  });
}

function totalsFor(s: VehicleState, acc: Accumulator) {
  return acc.totals(s.levelLitres, s.setup.spec.ratedLitresPer100Km, s.setup.spec.idleLitresPerHour);
}

/** Closes the WITA day begun at dayFromS and opens the next at the current second. */
export function closeDay(s: VehicleState, ctx: Context, partialEnd: boolean): void {
  const dayIndex = witaDayIndex(ctx.opts.startMs + s.dayFromS * 1000);
  const dayStartS = (witaDayStartMs(dayIndex) - ctx.opts.startMs) / 1000;
  emit(s, {
    type: 'day',
    ...vehicleRef(s),
    date: witaDate(ctx.opts.startMs + s.dayFromS * 1000),
    from: ctx.iso(s.dayFromS),
    to: ctx.iso(s.tS),
    partial: partialEnd || s.dayFromS > dayStartS,
    ...totalsFor(s, s.day),
  });
  s.day = new Accumulator(s.levelLitres);
  s.dayFromS = s.tS;
}

/** The vehicle's summary over the whole run, its last record. */
export function recordVehicle(s: VehicleState): void {
  const spec = s.setup.spec;
  emit(s, {
    type: 'vehicle',
    ...vehicleRef(s),
    kind: s.setup.kind,
    fuelType: s.setup.fuelType,
    duty: s.setup.duty,
    home: s.setup.home.name,
    sensor: spec.sensor,
    tankCapacityLitres: spec.tankCapacityLitres,
    ratedLitresPer100Km: spec.ratedLitresPer100Km,
    idleLitresPerHour: spec.idleLitresPerHour,
    startOdometerKm: s.startOdometerM / 1000,
    endOdometerKm: round6(s.odometerM / 1000),
    readings: s.readings,
    badFixes: s.badFixes,
    ranDryS: s.ranDryS,
    ...totalsFor(s, s.run),
  });
}
