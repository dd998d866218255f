/** Every route plugin under /api/v1, in registration order. A new resource's routes are added here. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../app.js';
import { alertRuleRoutes } from './alert-rules.js';
import { alertRoutes } from './alerts.js';
import { allocationRoutes } from './allocations.js';
import { apiKeyRoutes } from './api-keys.js';
import { auditLogRoutes } from './audit-log.js';
import { budgetRoutes } from './budgets.js';
import { departmentRoutes } from './departments.js';
import { deviceRoutes } from './devices.js';
import { liveRoutes } from './live.js';
import { fuelRoutes } from './fuel.js';
import { fuelPriceRoutes } from './fuel-prices.js';
import { fuelPurchaseRoutes } from './fuel-purchases.js';
import { fuelVoucherRoutes } from './fuel-vouchers.js';
import { fuelStationRoutes } from './fuel-stations.js';
import { monthClosingRoutes } from './month-closings.js';
import { positionRoutes } from './positions.js';
import { quarantineRoutes } from './quarantine.js';
import { reconciliationRoutes } from './reconciliation.js';
import { reportRoutes } from './reports.js';
import { savingsRoutes } from './savings.js';
import { tripRoutes } from './trips.js';
import { vehicleRoutes } from './vehicles.js';

export const apiRoutes: ReadonlyArray<(deps: AppDeps) => FastifyPluginAsyncZod> = [
  departmentRoutes,
  vehicleRoutes,
  deviceRoutes,
  apiKeyRoutes,
  positionRoutes,
  quarantineRoutes,
  liveRoutes,
  alertRoutes,
  alertRuleRoutes,
  tripRoutes,
  fuelRoutes,
  reportRoutes,
  allocationRoutes,
  auditLogRoutes,
  budgetRoutes,
  fuelPriceRoutes,
  fuelPurchaseRoutes,
  reconciliationRoutes,
  savingsRoutes,
  fuelVoucherRoutes,
  monthClosingRoutes,
  fuelStationRoutes,
];
