/**
 * Seeds the Kupang demo fleet (departments, vehicles, one tracker each) if it is not
 * there yet, and gives every demo tracker a fresh secret for this run: only secret
 * hashes are stored, so a second run cannot learn the old ones. Also the finance
 * registers the demo needs: Pertamina's dated prices for East Nusa Tenggara (the same
 * table the simulator prices its receipts with) and Kupang's filling stations.
 */
import { NTT_FUEL_PRICES } from '../../simulator/fuel-prices.js';
import { fuelStationCode, kupangFuelStations } from '../../simulator/kupang.js';
import type { Actor } from '../repositories/finance/audit-log.js';
import type { Repositories } from '../repositories/index.js';
import { generateDeviceSecret, hashDeviceSecret } from '../security/secrets.js';
import { demoDepartments, demoDeviceId, demoVehicles, type DemoVehicle } from './kupang-fleet.js';

export interface SeededDevice {
  deviceId: string;
  secret: string;
  vehicleId: string;
  vehicle: DemoVehicle;
}

/** Who the demo's own entries in the audit log name. */
const DEMO_SEED: Actor = Object.freeze({ keyId: null, keyName: 'demo seed' });

/** Adds the dated price table and the station register; what is there already is left as it is. */
export async function seedFinanceRegisters(repos: Pick<Repositories, 'prices' | 'stations'>, now: Date = new Date()): Promise<void> {
  const ordered = [...NTT_FUEL_PRICES].sort((a, b) => a.validFrom.localeCompare(b.validFrom));
  for (const p of ordered) {
    // 'not_later' (a later price was entered by hand) and 'existing' both leave it as it is.
    const price = { fuelType: p.fuelType, priceIdrPerLitre: BigInt(p.priceIdrPerLitre), validFrom: p.validFrom, source: p.source };
    await repos.prices.add(price, DEMO_SEED, now);
  }
  for (const station of kupangFuelStations) {
    await repos.stations.create({ code: fuelStationCode(station), name: station.name, lat: station.lat, lon: station.lon }, DEMO_SEED, now);
  }
}

export async function seedDemoFleet(repos: Repositories): Promise<SeededDevice[]> {
  await seedFinanceRegisters(repos);
  const departmentIds = new Map<string, string>();
  for (const d of demoDepartments) {
    const existing = await repos.departments.findByCode(d.code);
    departmentIds.set(d.code, (existing ?? (await repos.departments.create(d))).id);
  }

  const vehiclesByPlate = new Map((await repos.vehicles.list({ departmentId: null })).map((v) => [v.plateNumber, v]));
  const seeded: SeededDevice[] = [];
  for (const v of demoVehicles) {
    const departmentId = departmentIds.get(v.departmentCode);
    if (!departmentId) throw new Error(`demo vehicle ${v.plateNumber} names unknown department ${v.departmentCode}`);
    const { sensor: _sensor, departmentCode: _code, ...fields } = v;
    const vehicle = vehiclesByPlate.get(v.plateNumber) ?? (await repos.vehicles.create({ ...fields, departmentId }));
    const deviceId = demoDeviceId(v.plateNumber);
    const secret = generateDeviceSecret();
    const secretHash = hashDeviceSecret(secret);
    const device = await repos.devices.findById(deviceId);
    if (device) await repos.devices.setSecretHash(deviceId, secretHash);
    else await repos.devices.create({ id: deviceId, vehicleId: vehicle.id, protocol: 'armada', secretHash });
    seeded.push({ deviceId, secret, vehicleId: vehicle.id, vehicle: v });
  }
  return seeded;
}
