/**
 * What the simulator knows about a vehicle: the figures Armada stores (tank, rated
 * consumption), what its tracker measures, and — derived when not given — its kind,
 * fuel, duty, home base and driving profile.
 */
import type { Duty } from './calendar.js';
import { hash32 } from './random.js';
import { kupangPlaces, placeByName, type Place } from './kupang.js';

/**
 * What the tracker reports about fuel: a level sensor in litres or in percent of the
 * tank, the engine's cumulative fuel counter (CAN bus, `fuelUsedLitres`), or nothing.
 */
export type SensorKind = 'litres' | 'percent' | 'counter' | 'none';
export type VehicleKind = 'car' | 'pickup' | 'truck' | 'motorcycle' | 'bus' | 'ambulance' | 'other';
export type FuelType = 'pertalite' | 'pertamax' | 'solar' | 'dexlite';

export interface SimVehicle {
  deviceId: string;
  tankCapacityLitres: number;
  ratedLitresPer100Km: number;
  idleLitresPerHour: number;
  sensor: SensorKind;
  plateNumber?: string;
  kind?: VehicleKind;
  fuelType?: FuelType;
  /** Picks the home base and, with the kind, the duty. */
  departmentCode?: string;
  duty?: Duty;
  /** The name of a place in kupang.ts where the vehicle spends its nights. */
  homePlace?: string;
  /** A `counter` tracker also sends the CAN level in percent; false sends the counter alone. */
  counterWithLevel?: boolean;
  /**
   * Where the vehicle is, and its tank level, when the simulation starts: a restarted demo
   * resumes each vehicle where it stopped instead of jumping. Default: a place of its
   * schedule and a level drawn from the seed.
   */
  startAt?: { lat: number; lon: number; levelLitres?: number | null };
}

export interface DrivingProfile {
  maxCityKmh: number;
  maxOpenRoadKmh: number;
  accelMps2: number;
  decelMps2: number;
  /** How fast the nozzle fills this tank. */
  pumpLitresPerS: number;
  /** 24 V electrics on heavy vehicles, 12 V on the rest. */
  restingV: number;
  chargingV: number;
}

export interface VehicleSetup {
  spec: SimVehicle;
  plateNumber: string;
  kind: VehicleKind;
  fuelType: FuelType;
  duty: Duty;
  home: Place;
  profile: DrivingProfile;
}

function inferKind(v: SimVehicle): VehicleKind {
  if (v.tankCapacityLitres <= 10) return 'motorcycle';
  if (v.tankCapacityLitres >= 100) return 'truck';
  return 'car';
}

function inferFuel(kind: VehicleKind): FuelType {
  return kind === 'truck' || kind === 'bus' || kind === 'pickup' || kind === 'ambulance' ? 'solar' : 'pertalite';
}

function inferDuty(v: SimVehicle, kind: VehicleKind): Duty {
  if (kind === 'ambulance' || v.departmentCode === 'BPBD') return 'shift';
  if (kind === 'bus') return 'bus';
  if (v.departmentCode === 'DLHK' && (kind === 'truck' || kind === 'motorcycle')) return 'garbage';
  return 'office';
}

const HOME_BY_DEPARTMENT: Record<string, string> = {
  SETDA: 'Kantor Wali Kota Kupang',
  DISHUB: 'Kantor Dinas Perhubungan',
  DLHK: 'Pool Kendaraan DLHK',
  DINKES: 'Kantor Dinas Kesehatan',
  PUPR: 'Kantor Dinas PUPR',
  BPBD: 'Markas BPBD dan Damkar',
};

function inferHome(v: SimVehicle, kind: VehicleKind, duty: Duty): Place {
  const named =
    v.homePlace ??
    (kind === 'ambulance'
      ? 'RSUD Prof. Dr. W.Z. Johannes'
      : duty === 'bus'
        ? 'Terminal Kota Lama'
        : duty === 'garbage'
          ? 'Pool Kendaraan DLHK'
          : HOME_BY_DEPARTMENT[v.departmentCode ?? '']);
  if (named !== undefined) {
    const place = placeByName(named);
    if (!place) throw new Error(`vehicle ${v.deviceId}: unknown home place "${named}"`);
    return place;
  }
  const offices = kupangPlaces.filter((p) => p.kind === 'office');
  return offices[hash32(v.deviceId) % offices.length]!;
}

function profileFor(kind: VehicleKind): DrivingProfile {
  switch (kind) {
    case 'truck':
    case 'bus':
      return { maxCityKmh: 40, maxOpenRoadKmh: 60, accelMps2: 0.6, decelMps2: 1.5, pumpLitresPerS: 0.65, restingV: 25.4, chargingV: 28.0 };
    case 'motorcycle':
      return { maxCityKmh: 50, maxOpenRoadKmh: 65, accelMps2: 1.5, decelMps2: 2.5, pumpLitresPerS: 0.2, restingV: 12.7, chargingV: 14.2 };
    case 'ambulance':
      return { maxCityKmh: 60, maxOpenRoadKmh: 80, accelMps2: 1.3, decelMps2: 2.2, pumpLitresPerS: 0.55, restingV: 12.6, chargingV: 14.0 };
    default:
      return { maxCityKmh: 50, maxOpenRoadKmh: 75, accelMps2: 1.2, decelMps2: 2.0, pumpLitresPerS: 0.55, restingV: 12.6, chargingV: 14.0 };
  }
}

export function setupVehicle(v: SimVehicle): VehicleSetup {
  if (!(v.tankCapacityLitres > 0) || !(v.ratedLitresPer100Km > 0) || !(v.idleLitresPerHour >= 0)) {
    throw new Error(`vehicle ${v.deviceId}: tank, rated consumption and idle consumption must be positive`);
  }
  const kind = v.kind ?? inferKind(v);
  const duty = v.duty ?? inferDuty(v, kind);
  return {
    spec: v,
    plateNumber: v.plateNumber ?? v.deviceId,
    kind,
    fuelType: v.fuelType ?? inferFuel(kind),
    duty,
    home: inferHome(v, kind, duty),
    profile: profileFor(kind),
  };
}
