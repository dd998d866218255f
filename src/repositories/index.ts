/** All repositories over one database. A new aggregate's repository is added here. */
import type { Database } from '../db/client.js';
import { apiKeyRepository } from './api-keys.js';
import { departmentRepository } from './departments.js';
import { deviceRepository } from './devices.js';
import { positionRepository } from './positions.js';
import { quarantineRepository } from './quarantine.js';
import { vehicleRepository } from './vehicles.js';

export function createRepositories(database: Database) {
  return {
    departments: departmentRepository(database.db),
    vehicles: vehicleRepository(database.db),
    devices: deviceRepository(database.db),
    apiKeys: apiKeyRepository(database.db),
    positions: positionRepository(database),
    quarantine: quarantineRepository(database),
  };
}
export type Repositories = ReturnType<typeof createRepositories>;
