/**
 * Seeds the Kupang demo fleet (departments, vehicles, one tracker each) if it is not
 * there yet, and gives every demo tracker a fresh secret for this run: only secret
 * hashes are stored, so a second run cannot learn the old ones.
 */
import { demoDepartments, demoDeviceId, demoVehicles, type DemoVehicle } from '../simulator/demo-fleet.js';
import type { Repositories } from '../src/repositories/index.js';
import { generateDeviceSecret, hashDeviceSecret } from '../src/security/secrets.js';

export interface SeededDevice {
  deviceId: string;
  secret: string;
  vehicleId: string;
  vehicle: DemoVehicle;
}

export async function seedDemoFleet(repos: Repositories): Promise<SeededDevice[]> {
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
