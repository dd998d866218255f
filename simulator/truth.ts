/**
 * Ground truth: what really happened in a simulated run, the reference that Armada's
 * fuel, trip and fraud reports are measured against.
 *
 * Written as JSON Lines (`--truth FILE.jsonl`), one record per line, each with a `type`.
 * Times are ISO 8601 UTC; days are WITA calendar days (Asia/Makassar, as REPORT_TZ);
 * litres and kilometres are exact model values rounded to 6 decimals. Distances are
 * measured along the true path (not the noisy GPS); litres come from the fuel physics
 * (not the noisy sensor). Records appear in the order the events finished; per-vehicle
 * `vehicle` summaries come last.
 *
 *   run      one, first: {seed, startAt, endAt, schedule, intervalS, parkedIntervalS,
 *            format, vehicles, options}
 *   trip     {deviceId, plateNumber, startAt, endAt, durationS, distanceKm, litresUsed,
 *            idleS, maxSpeedKmh, start:{lat,lon,place}, end:{lat,lon,place}, purpose,
 *            outsideWorkingHours, leftCity, incomplete?} — one drive from a standstill at
 *            one place to the next place; junction stops inside a trip are not stops.
 *            `purpose`: errand, home, refuel, phantom, collection, landfill, bus-stop,
 *            call-out, private, out-of-city. `outsideWorkingHours`: the trip started outside
 *            the official hours of the vehicle's duty (calendar.ts DUTY_HOURS).
 *            `leftCity`: the trip went outside Kupang's bounds.
 *   stop     {deviceId, plateNumber, startAt, endAt, durationS, lat, lon, place,
 *            engineOnS, activities:[park|idle|wait|refuel|drain], incomplete?} — the time
 *            between two trips (or the run's edges) at one place.
 *   refuel   {deviceId, plateNumber, startAt, endAt, lat, lon, station, litres,
 *            levelBeforeLitres, levelAfterLitres, incomplete?} — the pump running, stationary,
 *            ignition off; the level rises linearly from startAt to endAt.
 *   drain    {deviceId, plateNumber, startAt, endAt, lat, lon, place, litres, ignition,
 *            levelBeforeLitres, levelAfterLitres, incomplete?} — fuel taken out while standing.
 *   receipt  {deviceId, plateNumber, at, litres, amountIdr, fuelType, priceIdrPerLitre, stationCode,
 *            station, lat, lon, receiptNo, fraud, filledLitres, refuelEndAt} — a purchase as
 *            the finance office would get it. `fraud`: null (honest: litres is the fill,
 *            rounded to 0.01 L as a pump prints it), 'inflated' (litres above the fill),
 *            'phantom' (a stop at the station with no fill at all), 'elsewhere' (the vehicle
 *            was parked at least 3 km from that station at that time; no fill).
 *            `filledLitres`: what went into the tank (0 for phantom and elsewhere).
 *   offline  {deviceId, startAt, endAt, readings} — the device had no coverage and sent
 *            its buffered readings at endAt as JSON arrays (armada) or one by one (owntracks).
 *   day      {deviceId, plateNumber, date, from, to, partial, …totals} per vehicle and WITA
 *            day (partial when the run starts or ends within it).
 *   vehicle  {deviceId, plateNumber, kind, fuelType, duty, home, sensor, tankCapacityLitres,
 *            ratedLitresPer100Km, idleLitresPerHour, startOdometerKm, endOdometerKm,
 *            readings, badFixes, ranDryS, …totals}
 *   replay   (replay mode only, the whole file) {deviceId, points, startAt, endAt,
 *            durationS, distanceKm, stops:[{startAt, endAt, durationS, lat, lon}]} — see gpx.ts.
 *
 * Totals (day and vehicle): distanceKm, litresUsed (= drivingLitres + idleLitres),
 * drivingLitres, idleLitres, ratedLitres (the rated estimate: ratedLitresPer100Km ×
 * distanceKm / 100 + idleLitresPerHour × idleHours), startLevelLitres, endLevelLitres,
 * refuelledLitres, drainedLitres, idleHours (engine on, wheels still), engineHours,
 * trips, refuels, drains. For every vehicle and day:
 *   startLevelLitres − endLevelLitres + refuelledLitres − drainedLitres = litresUsed.
 */
import type { LatLon } from './kupang.js';

export interface PlaceRef extends LatLon {
  place: string | null;
}

export interface Totals {
  distanceKm: number;
  litresUsed: number;
  drivingLitres: number;
  idleLitres: number;
  ratedLitres: number;
  startLevelLitres: number;
  endLevelLitres: number;
  refuelledLitres: number;
  drainedLitres: number;
  idleHours: number;
  engineHours: number;
  trips: number;
  refuels: number;
  drains: number;
}

export type TripPurpose =
  | 'errand'
  | 'home'
  | 'refuel'
  | 'phantom'
  | 'collection'
  | 'landfill'
  | 'bus-stop'
  | 'call-out'
  | 'private'
  | 'out-of-city';
export type StopActivity = 'park' | 'idle' | 'wait' | 'refuel' | 'drain';
export type FraudKind = 'inflated' | 'phantom' | 'elsewhere';

interface VehicleRef {
  deviceId: string;
  plateNumber: string;
}

export interface RunRecord {
  type: 'run';
  seed: number;
  startAt: string;
  endAt: string;
  schedule: string;
  intervalS: number;
  parkedIntervalS: number;
  format: string;
  vehicles: number;
  options: Record<string, unknown>;
}

export interface TripRecord extends VehicleRef {
  type: 'trip';
  startAt: string;
  endAt: string;
  durationS: number;
  distanceKm: number;
  litresUsed: number;
  idleS: number;
  maxSpeedKmh: number;
  start: PlaceRef;
  end: PlaceRef;
  purpose: TripPurpose;
  outsideWorkingHours: boolean;
  leftCity: boolean;
  incomplete?: true;
}

export interface StopRecord extends VehicleRef {
  type: 'stop';
  startAt: string;
  endAt: string;
  durationS: number;
  lat: number;
  lon: number;
  place: string | null;
  engineOnS: number;
  activities: StopActivity[];
  incomplete?: true;
}

export interface RefuelRecord extends VehicleRef {
  type: 'refuel';
  startAt: string;
  endAt: string;
  lat: number;
  lon: number;
  station: string;
  litres: number;
  levelBeforeLitres: number;
  levelAfterLitres: number;
  incomplete?: true;
}

export interface DrainRecord extends VehicleRef {
  type: 'drain';
  startAt: string;
  endAt: string;
  lat: number;
  lon: number;
  place: string | null;
  litres: number;
  ignition: boolean;
  levelBeforeLitres: number;
  levelAfterLitres: number;
  incomplete?: true;
}

export interface ReceiptRecord extends VehicleRef {
  type: 'receipt';
  at: string;
  litres: number;
  amountIdr: number;
  fuelType: string;
  /** The price in force in Kupang on the receipt's local day (simulator/fuel-prices.ts). */
  priceIdrPerLitre: number;
  station: string;
  /** The station's SPBU number, as the station register keys it. */
  stationCode: string;
  lat: number;
  lon: number;
  receiptNo: string;
  fraud: FraudKind | null;
  filledLitres: number;
  refuelEndAt: string | null;
}

export interface OfflineRecord extends VehicleRef {
  type: 'offline';
  startAt: string;
  endAt: string;
  readings: number;
  incomplete?: true;
}

export interface DayRecord extends VehicleRef, Totals {
  type: 'day';
  date: string;
  from: string;
  to: string;
  partial: boolean;
}

export interface VehicleRecord extends VehicleRef, Totals {
  type: 'vehicle';
  kind: string;
  fuelType: string;
  duty: string;
  home: string;
  sensor: string;
  tankCapacityLitres: number;
  ratedLitresPer100Km: number;
  idleLitresPerHour: number;
  startOdometerKm: number;
  endOdometerKm: number;
  readings: number;
  badFixes: number;
  ranDryS: number;
}

export type TruthRecord =
  | RunRecord
  | TripRecord
  | StopRecord
  | RefuelRecord
  | DrainRecord
  | ReceiptRecord
  | OfflineRecord
  | DayRecord
  | VehicleRecord;

export const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Running sums in exact units (metres, litres, seconds); rounded only when written. */
export class Accumulator {
  distanceM = 0;
  drivingLitres = 0;
  idleLitres = 0;
  refuelledLitres = 0;
  drainedLitres = 0;
  idleS = 0;
  engineS = 0;
  trips = 0;
  refuels = 0;
  drains = 0;

  constructor(readonly startLevelLitres: number) {}

  totals(endLevelLitres: number, ratedLitresPer100Km: number, idleLitresPerHour: number): Totals {
    return {
      distanceKm: round6(this.distanceM / 1000),
      litresUsed: round6(this.drivingLitres + this.idleLitres),
      drivingLitres: round6(this.drivingLitres),
      idleLitres: round6(this.idleLitres),
      ratedLitres: round6((ratedLitresPer100Km * this.distanceM) / 100_000 + (idleLitresPerHour * this.idleS) / 3600),
      startLevelLitres: round6(this.startLevelLitres),
      endLevelLitres: round6(endLevelLitres),
      refuelledLitres: round6(this.refuelledLitres),
      drainedLitres: round6(this.drainedLitres),
      idleHours: round6(this.idleS / 3600),
      engineHours: round6(this.engineS / 3600),
      trips: this.trips,
      refuels: this.refuels,
      drains: this.drains,
    };
  }
}
