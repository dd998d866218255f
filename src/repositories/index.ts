/** All repositories over one database. A new aggregate's repository is added here. */
import { createAnalytics } from '../analytics/service.js';
import { DEFAULT_ANALYTICS_SETTINGS, type AnalyticsSettings } from '../analytics/settings.js';
import type { Database } from '../db/client.js';
import { alertRepository } from './alerts.js';
import { apiKeyRepository } from './api-keys.js';
import { departmentRepository } from './departments.js';
import { deviceRepository } from './devices.js';
import { geofenceRepository } from './geofences.js';
import { positionRepository } from './positions.js';
import { quarantineRepository } from './quarantine.js';
import { vehicleRepository } from './vehicles.js';

/** `analytics` settings come from the configuration (`config.analytics`); tests may leave them out. */
export function createRepositories(database: Database, analytics: AnalyticsSettings = DEFAULT_ANALYTICS_SETTINGS) {
  return {
    departments: departmentRepository(database.db),
    vehicles: vehicleRepository(database.db),
    devices: deviceRepository(database.db),
    apiKeys: apiKeyRepository(database.db),
    positions: positionRepository(database),
    quarantine: quarantineRepository(database),
    alerts: alertRepository(database),
    geofences: geofenceRepository(database.db),
    /** Trips, stops, fuel and the fleet report (src/analytics/service.ts). */
    analytics: createAnalytics(database, analytics),
  };
}
export type Repositories = ReturnType<typeof createRepositories>;
