/** A department with `n` vehicles, each with one Armada device `<prefix>-<i>`: the streams of the crash and shutdown tests. */
import { randomBytes } from 'node:crypto';
import { createRepositories } from '../../src/repositories/index.js';
import { hashDeviceSecret } from '../../src/security/secrets.js';
import type { TestDatabase } from './stores.js';

export async function seedStreamDevices(testDb: TestDatabase, n: number, prefix: string): Promise<string[]> {
  const repos = createRepositories(testDb.database);
  const tag = prefix.slice(0, 1).toUpperCase();
  const dep = await repos.departments.create({ code: `${tag}${randomBytes(2).toString('hex')}`, name: `Stream ${prefix}` });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = await repos.vehicles.create({
      plateNumber: `DH ${tag}${i}`,
      departmentId: dep.id,
      kind: 'car',
      fuelType: 'pertalite',
      tankCapacityLitres: 50,
      ratedLitresPer100Km: 9,
      idleLitresPerHour: 0.8,
      monthlyAllocationLitres: 200,
    });
    const id = `${prefix}-${i}`;
    await repos.devices.create({ id, vehicleId: v.id, protocol: 'armada', secretHash: hashDeviceSecret('unused') });
    ids.push(id);
  }
  return ids;
}
