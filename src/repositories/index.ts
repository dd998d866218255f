/**
 * All repositories over one database: data access only, no services (those are built
 * over the repositories in src/services.ts). A new aggregate's repository is added here.
 */
import type { Database } from '../db/client.js';
import { alertRuleRepository } from './alert-rules.js';
import { alertRepository } from './alerts.js';
import { analyticsRepository } from './analytics/index.js';
import { apiKeyRepository } from './api-keys.js';
import { departmentRepository } from './departments.js';
import { deviceRepository } from './devices.js';
import { allocationRepository } from './finance/allocations.js';
import { auditLogRepository } from './finance/audit-log.js';
import { budgetRepository } from './finance/budgets.js';
import { closingRepository } from './finance/closings.js';
import { evidenceRepository } from './finance/evidence.js';
import { priceRepository } from './finance/prices.js';
import { purchaseRepository } from './finance/purchases.js';
import { savingsRepository } from './finance/savings.js';
import { stationRepository } from './finance/stations.js';
import { verdictRepository } from './finance/verdicts.js';
import { voucherRepository } from './finance/vouchers.js';
import { geofenceRepository } from './geofences.js';
import { ingestStateRepository } from './ingest-state.js';
import { positionRepository } from './positions.js';
import { quarantineRepository } from './quarantine.js';
import { retentionRepository } from './retention.js';
import { vehicleRepository } from './vehicles.js';

export function createRepositories(database: Database) {
  return {
    departments: departmentRepository(database.db),
    vehicles: vehicleRepository(database.db),
    devices: deviceRepository(database.db),
    apiKeys: apiKeyRepository(database.db),
    positions: positionRepository(database),
    /** Latest positions and device counters, written behind the readings (src/ingest/state-behind.ts). */
    ingestState: ingestStateRepository(database),
    quarantine: quarantineRepository(database),
    /** Telemetry month partitions and the retention's horizon. */
    retention: retentionRepository(database),
    alerts: alertRepository(database),
    geofences: geofenceRepository(database.db),
    alertRules: alertRuleRepository(database.db),
    /** Readings, rollups and the analytics job's state. */
    analytics: analyticsRepository(database),
    allocations: allocationRepository(database),
    auditLog: auditLogRepository(database),
    budgets: budgetRepository(database),
    closings: closingRepository(database),
    evidence: evidenceRepository(database),
    prices: priceRepository(database),
    purchases: purchaseRepository(database),
    savings: savingsRepository(database),
    stations: stationRepository(database),
    verdicts: verdictRepository(database),
    vouchers: voucherRepository(database),
  };
}
export type Repositories = ReturnType<typeof createRepositories>;
