/**
 * The Kupang demo fleet: departments of the city government and a plausible mix of
 * their vehicles. Pure data; the demo seeds it and the simulator drives it.
 *
 * Plates: official vehicles of the city carry red plates with a short number and no
 * suffix ("DH 101"); vehicles run under contract (garbage haulage, rentals) carry
 * ordinary black plates ("DH 8541 AK"). Figures are typical for the makes such
 * fleets use (Avanza, Innova, Hilux, L300, Colt Diesel, Hino, Hiace ambulances,
 * 110-125 cc motorcycles); allocations follow the fixed monthly quotas the city used
 * before tracking, deliberately generous, as they were.
 */

export interface DemoDepartment {
  code: string;
  name: string;
}

export interface DemoVehicle {
  plateNumber: string;
  departmentCode: string;
  kind: 'car' | 'pickup' | 'truck' | 'motorcycle' | 'bus' | 'ambulance' | 'other';
  fuelType: 'pertalite' | 'pertamax' | 'solar' | 'dexlite';
  tankCapacityLitres: number;
  ratedLitresPer100Km: number;
  idleLitresPerHour: number;
  monthlyAllocationLitres: number;
  /** What the tracker reports: a level in litres or percent, the CAN fuel counter (with a level in percent), or no fuel. */
  sensor: 'litres' | 'percent' | 'counter' | 'none';
  /** Ambulances and the disaster and fire office's vehicles answer calls at any hour: no outside-hours alerts. */
  outsideHoursExempt: boolean;
}

export const demoDepartments: DemoDepartment[] = [
  { code: 'SETDA', name: "Sekretariat Daerah (Mayor's Office)" },
  { code: 'DISHUB', name: 'Dinas Perhubungan (Transport Office)' },
  { code: 'DLHK', name: 'Dinas Lingkungan Hidup dan Kebersihan (Environment and Sanitation)' },
  { code: 'DINKES', name: 'Dinas Kesehatan (Health Office)' },
  { code: 'PUPR', name: 'Dinas Pekerjaan Umum dan Penataan Ruang (Public Works)' },
  { code: 'BPBD', name: 'Badan Penanggulangan Bencana Daerah (Disaster Management and Fire)' },
];

type Template = Omit<DemoVehicle, 'plateNumber' | 'departmentCode' | 'sensor' | 'outsideHoursExempt'>;

/** Departments whose every vehicle is on call day and night. */
const ON_CALL_DEPARTMENTS = new Set(['BPBD']);

const sedan: Template = {
  kind: 'car',
  fuelType: 'pertamax',
  tankCapacityLitres: 55,
  ratedLitresPer100Km: 11.5,
  idleLitresPerHour: 0.9,
  monthlyAllocationLitres: 300,
};
const mpv: Template = {
  kind: 'car',
  fuelType: 'pertalite',
  tankCapacityLitres: 55,
  ratedLitresPer100Km: 10.5,
  idleLitresPerHour: 0.8,
  monthlyAllocationLitres: 250,
};
const compactMpv: Template = {
  kind: 'car',
  fuelType: 'pertalite',
  tankCapacityLitres: 45,
  ratedLitresPer100Km: 8.5,
  idleLitresPerHour: 0.6,
  monthlyAllocationLitres: 200,
};
const motorcycle: Template = {
  kind: 'motorcycle',
  fuelType: 'pertalite',
  tankCapacityLitres: 4.2,
  ratedLitresPer100Km: 2.2,
  idleLitresPerHour: 0.1,
  monthlyAllocationLitres: 40,
};
const garbageTricycle: Template = {
  kind: 'motorcycle',
  fuelType: 'pertalite',
  tankCapacityLitres: 5.0,
  ratedLitresPer100Km: 3.2,
  idleLitresPerHour: 0.15,
  monthlyAllocationLitres: 60,
};
const lightPickup: Template = {
  kind: 'pickup',
  fuelType: 'solar',
  tankCapacityLitres: 60,
  ratedLitresPer100Km: 11,
  idleLitresPerHour: 0.9,
  monthlyAllocationLitres: 250,
};
const doubleCabin: Template = {
  kind: 'pickup',
  fuelType: 'dexlite',
  tankCapacityLitres: 80,
  ratedLitresPer100Km: 12,
  idleLitresPerHour: 1.1,
  monthlyAllocationLitres: 300,
};
const dumpTruck: Template = {
  kind: 'truck',
  fuelType: 'solar',
  tankCapacityLitres: 100,
  ratedLitresPer100Km: 22,
  idleLitresPerHour: 2.2,
  monthlyAllocationLitres: 700,
};
const armRollTruck: Template = {
  kind: 'truck',
  fuelType: 'solar',
  tankCapacityLitres: 120,
  ratedLitresPer100Km: 27,
  idleLitresPerHour: 2.6,
  monthlyAllocationLitres: 800,
};
const compactorTruck: Template = {
  kind: 'truck',
  fuelType: 'solar',
  tankCapacityLitres: 200,
  ratedLitresPer100Km: 35,
  idleLitresPerHour: 3.2,
  monthlyAllocationLitres: 1000,
};
const tankerTruck: Template = {
  kind: 'truck',
  fuelType: 'solar',
  tankCapacityLitres: 200,
  ratedLitresPer100Km: 32,
  idleLitresPerHour: 3.5,
  monthlyAllocationLitres: 600,
};
const cityBus: Template = {
  kind: 'bus',
  fuelType: 'solar',
  tankCapacityLitres: 120,
  ratedLitresPer100Km: 25,
  idleLitresPerHour: 2.5,
  monthlyAllocationLitres: 900,
};
const ambulance: Template = {
  kind: 'ambulance',
  fuelType: 'dexlite',
  tankCapacityLitres: 70,
  ratedLitresPer100Km: 12.5,
  idleLitresPerHour: 1.2,
  monthlyAllocationLitres: 400,
};

function vehicle(plateNumber: string, departmentCode: string, template: Template, sensor: DemoVehicle['sensor']): DemoVehicle {
  const outsideHoursExempt = template.kind === 'ambulance' || ON_CALL_DEPARTMENTS.has(departmentCode);
  return { plateNumber, departmentCode, ...template, sensor, outsideHoursExempt };
}

export const demoVehicles: DemoVehicle[] = [
  vehicle('DH 101', 'SETDA', sedan, 'percent'),
  vehicle('DH 102', 'SETDA', mpv, 'percent'),
  vehicle('DH 103', 'SETDA', compactMpv, 'litres'),
  vehicle('DH 104', 'SETDA', compactMpv, 'none'),
  vehicle('DH 1021', 'SETDA', motorcycle, 'none'),

  vehicle('DH 110', 'DISHUB', lightPickup, 'litres'),
  vehicle('DH 111', 'DISHUB', compactMpv, 'percent'),
  vehicle('DH 112', 'DISHUB', cityBus, 'counter'),
  vehicle('DH 113', 'DISHUB', cityBus, 'counter'),
  vehicle('DH 1101', 'DISHUB', motorcycle, 'none'),
  vehicle('DH 1102', 'DISHUB', motorcycle, 'none'),

  vehicle('DH 120', 'DLHK', dumpTruck, 'litres'),
  vehicle('DH 121', 'DLHK', dumpTruck, 'litres'),
  vehicle('DH 122', 'DLHK', armRollTruck, 'litres'),
  vehicle('DH 123', 'DLHK', compactorTruck, 'litres'),
  vehicle('DH 8541 AK', 'DLHK', armRollTruck, 'litres'),
  vehicle('DH 8542 AK', 'DLHK', dumpTruck, 'none'),
  vehicle('DH 124', 'DLHK', lightPickup, 'percent'),
  vehicle('DH 1201', 'DLHK', garbageTricycle, 'none'),
  vehicle('DH 1202', 'DLHK', garbageTricycle, 'none'),

  vehicle('DH 130', 'DINKES', ambulance, 'litres'),
  vehicle('DH 131', 'DINKES', ambulance, 'litres'),
  vehicle('DH 132', 'DINKES', ambulance, 'percent'),
  vehicle('DH 133', 'DINKES', compactMpv, 'none'),
  vehicle('DH 1301', 'DINKES', motorcycle, 'none'),

  vehicle('DH 140', 'PUPR', doubleCabin, 'litres'),
  vehicle('DH 141', 'PUPR', lightPickup, 'none'),
  vehicle('DH 142', 'PUPR', dumpTruck, 'litres'),
  vehicle('DH 143', 'PUPR', tankerTruck, 'litres'),
  vehicle('DH 1735 AB', 'PUPR', mpv, 'percent'),

  vehicle('DH 150', 'BPBD', doubleCabin, 'litres'),
  vehicle('DH 151', 'BPBD', tankerTruck, 'litres'),
  vehicle('DH 152', 'BPBD', compactMpv, 'percent'),
];

/** A tracker id derived from a plate: "DH 8541 AK" becomes "dh-8541-ak". */
export function demoDeviceId(plateNumber: string): string {
  return plateNumber
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * A demo vehicle as the simulator takes it: with its kind, fuel and department, the
 * simulator gives it the right duty (office hours, shifts, garbage rounds, bus service)
 * and home base.
 */
export function demoSimVehicle(v: DemoVehicle, deviceId: string = demoDeviceId(v.plateNumber)) {
  return {
    deviceId,
    plateNumber: v.plateNumber,
    kind: v.kind,
    fuelType: v.fuelType,
    departmentCode: v.departmentCode,
    tankCapacityLitres: v.tankCapacityLitres,
    ratedLitresPer100Km: v.ratedLitresPer100Km,
    idleLitresPerHour: v.idleLitresPerHour,
    sensor: v.sensor,
  };
}
