/** The audit log: who changed what in finance and access. Admin, finance and auditor read it; nobody writes it. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BadRequestError } from '../../errors.js';
import { requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { errorResponse } from '../schemas.js';
import { boundMs, periodBound } from './fuel-purchases.js';

const entry = z.object({
  id: z.number().int(),
  at: z.string(),
  keyId: z.string().nullable().describe('The API key that made the change (null: the service itself, e.g. the demo seed)'),
  keyName: z.string().nullable(),
  action: z
    .string()
    .describe(
      'e.g. fuel_purchase.create, fuel_purchase.void, fuel_purchase.import, fuel_price.create, vehicle_allocation.set, ' +
        'vehicle.update, api_key.create',
    ),
  entity: z.string(),
  entityId: z.string().nullable(),
  departmentId: z.string().nullable(),
  before: z.unknown().describe('What it was (null for a creation)'),
  after: z.unknown().describe('What it became'),
});

export function auditLogRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const tz = deps.services.ledger.settings.reportTz;
  return async (app) => {
    app.get(
      '/audit-log',
      {
        preHandler: requireRole('admin', 'finance', 'auditor'),
        schema: {
          tags: ['finance'],
          summary: 'The audit log, newest first (paged)',
          description: "A department's key sees its department's entries and the history of the city-wide registers (prices, stations).",
          querystring: z.object({
            from: periodBound.optional(),
            to: periodBound.optional(),
            entity: z.string().max(64).optional().describe('fuel_purchase, fuel_price, fuel_station, vehicle, department_budget, api_key'),
            entityId: z.string().max(200).optional(),
            action: z.string().max(64).optional(),
            keyId: z.uuid().optional().describe('Changes made with this API key'),
            departmentId: z.uuid().optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
            offset: z.coerce.number().int().min(0).default(0),
          }),
          response: {
            200: z.object({ entries: z.array(entry), total: z.number().int(), nextOffset: z.number().int().nullable() }),
            400: errorResponse,
            403: errorResponse,
          },
        },
      },
      async (request) => {
        const q = request.query;
        const fromMs = boundMs(q.from, tz, 'from');
        const toMs = boundMs(q.to, tz, 'to');
        if (fromMs !== undefined && toMs !== undefined && !(fromMs < toMs)) throw new BadRequestError('query.from must be before query.to');
        const { rows, total } = await deps.services.auditLog.list(request.auth, { ...q, fromMs, toMs });
        return {
          entries: rows.map((r) => ({ ...r, at: r.at.toISOString() })),
          total,
          nextOffset: q.offset + rows.length < total ? q.offset + rows.length : null,
        };
      },
    );
  };
}
