/** Fuel prices: a dated history per fuel type, never edited; finance and admin add, everyone reads. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ForbiddenError } from '../../errors.js';
import { rupiahNumber } from '../../domain/finance/money.js';
import { actorOf } from '../../finance/audit.js';
import { LITRE_FUEL_TYPES } from '../../finance/ledger.js';
import type { FuelPrice } from '../../repositories/finance/prices.js';
import { requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { errorResponse } from '../schemas.js';
import { FINANCE_WRITERS } from './fuel-purchases.js';

/** A calendar date, checked to exist (2026-02-30 is refused). */
export const localDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'a date YYYY-MM-DD' })
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), {
    message: 'is not a calendar date',
  });

const price = z.object({
  id: z.uuid(),
  fuelType: z.string(),
  priceIdrPerLitre: z.number().int(),
  validFrom: z.string().describe('The local date (REPORT_TZ) from which it applies, until the next price of the same fuel'),
  source: z.string().nullable().describe('Where the figure comes from'),
  createdAt: z.string(),
  createdByKeyId: z.string().nullable(),
});

const view = (p: FuelPrice) => ({ ...p, priceIdrPerLitre: rupiahNumber(p.priceIdrPerLitre), createdAt: p.createdAt.toISOString() });

export function fuelPriceRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const catalog = deps.services.catalog;
  return async (app) => {
    app.get(
      '/fuel-prices',
      {
        schema: {
          tags: ['finance'],
          summary: 'The fuel price history, or the prices in force on a local day',
          querystring: z.object({
            fuelType: z.enum(LITRE_FUEL_TYPES).optional(),
            on: localDate.optional().describe('Only the price of each fuel in force on this local date (today: the current prices)'),
          }),
          response: { 200: z.array(price), 400: errorResponse },
        },
      },
      async (request) => {
        const { fuelType, on } = request.query;
        const rows = on ? await catalog.pricesInForceOn(on, fuelType) : await catalog.listPrices(fuelType);
        return rows.map(view);
      },
    );

    app.post(
      '/fuel-prices',
      {
        preHandler: requireRole(...FINANCE_WRITERS),
        schema: {
          tags: ['finance'],
          summary: 'Add a price from a local date on (history is never edited)',
          description:
            "A new price must have a validFrom after the fuel's latest (409 otherwise). The same price posted again answers it with 200.",
          body: z.object({
            fuelType: z.enum(LITRE_FUEL_TYPES),
            priceIdrPerLitre: z.number().int().positive().max(1_000_000).describe('Whole rupiah per litre'),
            validFrom: localDate.describe('The local date (REPORT_TZ) from which it applies'),
            source: z.string().trim().min(1).max(500).optional().describe('Where the figure comes from (a published price list, a decree)'),
          }),
          response: { 200: price, 201: price, 400: errorResponse, 403: errorResponse, 409: errorResponse },
        },
      },
      async (request, reply) => {
        if (request.auth.departmentId) throw new ForbiddenError('Prices are city-wide: adding one needs a key without a department.');
        const result = await catalog.addPrice(request.body, { actor: actorOf(request.auth), scope: request.auth, now: deps.now() });
        return reply.code(result.outcome === 'created' ? 201 : 200).send(view(result.price));
      },
    );
  };
}
