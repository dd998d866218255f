/**
 * Alert rules over a vehicle's readings, in fix-time order. Pure: a rule looks at one
 * reading and the vehicle's alert state, and says whether an alert starts. Each rule
 * raises one alert per episode (entering the violation), not one per reading: a
 * vehicle doing 90 km/h for ten minutes is one speeding alert, not sixty.
 */
import { receiptAlertKinds } from './finance/reconcile.js';
import { containsPoint, type GeofenceGeometry } from './geofence.js';
import { isWorkingTime, type WorkingHours } from './report-time.js';

/** The receipt_* kinds are the reconciliation's settled flags (src/finance/settle-job.ts). */
export const alertKinds = [
  'speeding',
  'outside_working_hours',
  'geofence_exit',
  'low_battery',
  'device_silent',
  'fuel_drain',
  ...receiptAlertKinds,
] as const;
export type AlertKind = (typeof alertKinds)[number];

export interface AlertCandidate {
  kind: AlertKind;
  vehicleId: string;
  departmentId: string;
  atMs: number;
  lat: number | null;
  lon: number | null;
  message: string;
  details: Record<string, unknown>;
}

export interface AlertRules {
  reportTz: string;
  /** Fleet-wide limit; a vehicle's own limit, when set, wins. */
  speedLimitKmh: number;
  workingHours: WorkingHours;
  /** Below this, with the engine off, the vehicle's battery is low. */
  lowBatteryV: number;
  /** A geofence with a department applies to that department's vehicles only. */
  geofences: ReadonlyArray<{ id: string; name: string; geometry: GeofenceGeometry; departmentId?: string | null }>;
}

export interface AlertReading {
  fixAtMs: number;
  lat: number;
  lon: number;
  speedKmh: number | null;
  ignition: boolean | null;
  batteryV: number | null;
}

export interface VehicleAlertState {
  lastFixAtMs: number;
  speeding: boolean;
  outsideHours: boolean;
  lowBattery: boolean;
  /** Geofence id → was the vehicle inside at its last fix. */
  inside: Map<string, boolean>;
}

export function freshAlertState(): VehicleAlertState {
  return { lastFixAtMs: Number.NEGATIVE_INFINITY, speeding: false, outsideHours: false, lowBattery: false, inside: new Map() };
}

/** Below this a GPS speed is noise from a parked receiver (as for the vehicle status). */
const MOVING_KMH = 3;
/** Speeding ends only when the vehicle is clearly under the limit again, so it does not flap. */
const SPEED_HYSTERESIS_KMH = 5;

/**
 * Evaluates one reading; returns the alerts it starts and updates the state. Readings
 * older than the newest one already seen are not judged (a buffered flush arriving
 * late must not reopen episodes); the caller stores them all the same.
 */
export function evaluateReading(
  state: VehicleAlertState,
  vehicle: { vehicleId: string; departmentId: string; plateNumber: string; speedLimitKmh: number | null; outsideHoursExempt?: boolean },
  r: AlertReading,
  rules: AlertRules,
): readonly AlertCandidate[] {
  if (r.fixAtMs <= state.lastFixAtMs) return NONE;
  state.lastFixAtMs = r.fixAtMs;
  // Most readings raise nothing: no array is made for them.
  let alerts: AlertCandidate[] | undefined;

  const limitKmh = vehicle.speedLimitKmh ?? rules.speedLimitKmh;
  const speedKmh = r.speedKmh ?? 0;
  if (!state.speeding && speedKmh > limitKmh) {
    state.speeding = true;
    (alerts ??= []).push(
      candidate('speeding', vehicle, r, `${vehicle.plateNumber} at ${Math.round(speedKmh)} km/h (limit ${limitKmh})`, {
        speedKmh,
        limitKmh,
      }),
    );
  } else if (state.speeding && speedKmh <= limitKmh - SPEED_HYSTERESIS_KMH) {
    state.speeding = false;
  }

  const inUse = speedKmh >= MOVING_KMH || r.ignition === true;
  // An exempt vehicle (an ambulance, a fire engine) is never "outside working hours".
  const offHours = inUse && vehicle.outsideHoursExempt !== true && !isWorkingTime(rules.reportTz, rules.workingHours, r.fixAtMs);
  if (offHours && !state.outsideHours) {
    (alerts ??= []).push(
      candidate('outside_working_hours', vehicle, r, `${vehicle.plateNumber} in use outside working hours`, {
        speedKmh,
        ignition: r.ignition,
      }),
    );
  }
  state.outsideHours = offHours;

  if (r.batteryV !== null) {
    const low = r.batteryV < rules.lowBatteryV && r.ignition !== true;
    if (low && !state.lowBattery) {
      (alerts ??= []).push(
        candidate('low_battery', vehicle, r, `${vehicle.plateNumber} battery at ${r.batteryV.toFixed(1)} V`, {
          batteryV: r.batteryV,
          thresholdV: rules.lowBatteryV,
        }),
      );
    }
    state.lowBattery = low;
  }

  for (const fence of rules.geofences) {
    const inside = containsPoint(fence.geometry, r.lat, r.lon);
    const wasInside = state.inside.get(fence.id);
    // Leaving is a change from inside; a vehicle first seen outside has not left anything.
    if (wasInside === true && !inside) {
      (alerts ??= []).push(
        candidate('geofence_exit', vehicle, r, `${vehicle.plateNumber} left ${fence.name}`, {
          geofenceId: fence.id,
          geofenceName: fence.name,
        }),
      );
    }
    state.inside.set(fence.id, inside);
  }
  return alerts ?? NONE;
}

function candidate(
  kind: AlertKind,
  vehicle: { vehicleId: string; departmentId: string },
  r: AlertReading,
  message: string,
  details: Record<string, unknown>,
): AlertCandidate {
  return {
    kind,
    vehicleId: vehicle.vehicleId,
    departmentId: vehicle.departmentId,
    atMs: r.fixAtMs,
    lat: r.lat,
    lon: r.lon,
    message,
    details,
  };
}

/** The answer for a reading that raises nothing (shared, never written to). */
const NONE: readonly AlertCandidate[] = Object.freeze([]);
