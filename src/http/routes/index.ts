/** Every route plugin under /api/v1, in registration order. A new resource's routes are added here. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../app.js';
import { alertRoutes } from './alerts.js';
import { apiKeyRoutes } from './api-keys.js';
import { departmentRoutes } from './departments.js';
import { deviceRoutes } from './devices.js';
import { liveRoutes } from './live.js';
import { fuelRoutes } from './fuel.js';
import { fuelPurchaseRoutes } from './fuel-purchases.js';
import { fuelVoucherRoutes } from './fuel-vouchers.js';
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
  tripRoutes,
  fuelRoutes,
  reportRoutes,
  fuelPurchaseRoutes,
  reconciliationRoutes,
  savingsRoutes,
  fuelVoucherRoutes,
];
