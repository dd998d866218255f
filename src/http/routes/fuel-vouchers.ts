/** POST/GET /fuel-vouchers: grants of litres to a vehicle, redeemed by the purchase that names the code. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { litresNumber, parseLitres } from '../../domain/finance/money.js';
import { BadRequestError, NotFoundError } from '../../errors.js';
import { actorOf } from '../../finance/audit.js';
import type { VoucherView } from '../../finance/vouchers.js';
import type { AppDeps } from '../app.js';
import { assertDepartmentVisible, requireRole } from '../auth.js';
import { errorResponse, isoTime } from '../schemas.js';

const voucher = z.object({
  id: z.uuid(),
  code: z.string().describe('Short and unguessable; the driver shows it at the pump, the receipt names it'),
  vehicleId: z.uuid(),
  plateNumber: z.string(),
  departmentId: z.uuid(),
  requestedLitres: z.number().nullable(),
  grantedLitres: z.number(),
  limitedBy: z.enum(['tank_room', 'allocation_left', 'no_recent_level']).nullable().describe('Why less than asked was granted'),
  createdAt: z.string(),
  expiresAt: z.string(),
  status: z.enum(['open', 'redeemed', 'expired']),
  redeemedByPurchaseId: z.uuid().nullable(),
});
const issued = voucher.extend({ reason: z.string().nullable().describe('When less than asked was granted: why, in words') });

const view = (v: VoucherView) => ({
  id: v.row.id,
  code: v.row.code,
  vehicleId: v.row.vehicleId,
  plateNumber: v.row.plateNumber,
  departmentId: v.row.departmentId,
  requestedLitres: v.row.requestedMl === null ? null : litresNumber(v.row.requestedMl),
  grantedLitres: litresNumber(v.row.grantedMl),
  limitedBy: v.row.limitedBy as z.infer<typeof voucher>['limitedBy'],
  createdAt: new Date(v.row.createdAtMs).toISOString(),
  expiresAt: new Date(v.row.expiresAtMs).toISOString(),
  status: v.status,
  redeemedByPurchaseId: v.redeemedBy,
});

export function fuelVoucherRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { vehicles, vouchers } = deps.repos;
  const service = deps.services.vouchers;
  return async (app) => {
    app.post(
      '/fuel-vouchers',
      {
        preHandler: requireRole('admin', 'finance', 'manager'),
        schema: {
          tags: ['finance'],
          summary: 'Issue a fuel voucher',
          description:
            'Grants at most what the tank can take now (capacity − the latest level, at most 30 minutes old) and what is left of ' +
            "the month's allocation (allocation − purchased − open vouchers). " +
            'Less than asked: `limitedBy` and `reason` say why. Nothing: 409 whose error code is the reason (tank_room, ' +
            'allocation_left, no_recent_level). Expires after FINANCE_VOUCHER_EXPIRY_H. A manager issues for its own department.',
          body: z.object({
            vehicleId: z.uuid(),
            litres: z
              .union([z.number(), z.string()])
              .optional()
              .describe('Litres asked for (at most three decimals); without: as much as may be granted'),
          }),
          response: { 201: issued, 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse },
        },
      },
      async (request, reply) => {
        const vehicle = await vehicles.findById(request.auth, request.body.vehicleId);
        if (!vehicle) throw new NotFoundError('Vehicle');
        let requestedMl: bigint | null = null;
        if (request.body.litres !== undefined) {
          try {
            requestedMl = parseLitres(request.body.litres);
          } catch (err) {
            throw new BadRequestError(`litres: ${(err as Error).message}`);
          }
          if (requestedMl <= 0n) throw new BadRequestError('litres: must be more than 0');
        }
        const v = await service.issue(vehicle, requestedMl, actorOf(request.auth), deps.now().getTime());
        return reply.code(201).send({ ...view(v), reason: v.reason });
      },
    );

    app.get(
      '/fuel-vouchers',
      {
        schema: {
          tags: ['finance'],
          summary: 'Fuel vouchers, newest first, with their status',
          description:
            'open, redeemed (by the first purchase of its vehicle naming the code while valid; voiding that purchase reopens it) or ' +
            'expired.',
          querystring: z.object({
            vehicleId: z.uuid().optional(),
            departmentId: z.uuid().optional(),
            status: z.enum(['open', 'redeemed', 'expired']).optional(),
            from: isoTime.optional().describe('Issued at or after. Default: 31 days before `to`'),
            to: isoTime.optional().describe('Issued before. Default: now'),
            limit: z.coerce.number().int().min(1).max(5000).default(500),
          }),
          response: { 200: z.array(voucher), 400: errorResponse, 404: errorResponse },
        },
      },
      async (request) => {
        const q = request.query;
        if (q.departmentId) assertDepartmentVisible(request.auth, q.departmentId);
        const nowMs = deps.now().getTime();
        const toMs = q.to ? Date.parse(q.to) : nowMs + 1;
        const fromMs = q.from ? Date.parse(q.from) : toMs - 31 * 86_400_000;
        if (fromMs >= toMs) throw new BadRequestError('`from` must be before `to`.');
        const rows = await vouchers.list(request.auth, {
          fromMs,
          toMs,
          limit: q.limit,
          ...(q.vehicleId ? { vehicleId: q.vehicleId } : {}),
          ...(q.departmentId ? { departmentId: q.departmentId } : {}),
        });
        const views = await service.withStatus(rows, nowMs);
        return views.filter((v) => !q.status || v.status === q.status).map(view);
      },
    );
  };
}
