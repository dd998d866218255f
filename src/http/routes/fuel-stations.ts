/** The register of filling stations (SPBU): finance and admin register, everyone reads. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ForbiddenError } from '../../errors.js';
import { actorOf } from '../../finance/audit.js';
import type { Station } from '../../repositories/finance/stations.js';
import { requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { errorResponse } from '../schemas.js';
import { FINANCE_WRITERS } from './fuel-purchases.js';

const station = z.object({ id: z.uuid(), code: z.string(), name: z.string(), lat: z.number(), lon: z.number(), createdAt: z.string() });
const view = (s: Station) => ({ ...s, createdAt: s.createdAt.toISOString() });

export function fuelStationRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/fuel-stations',
      { schema: { tags: ['finance'], summary: 'The register of filling stations', response: { 200: z.array(station) } } },
      async () => (await deps.repos.stations.list()).map(view),
    );

    app.post(
      '/fuel-stations',
      {
        preHandler: requireRole(...FINANCE_WRITERS),
        schema: {
          tags: ['finance'],
          summary: 'Register a filling station; purchases naming it without a position are placed there',
          description: 'The same station again answers it with 200; a code already registered with other details is a 409.',
          body: z.object({
            code: z
              .string()
              .trim()
              .min(1)
              .max(40)
              .regex(/^[A-Za-z0-9._-]+$/, { message: 'letters, digits, . _ and - only' })
              .describe('The station (SPBU) number, e.g. 54.851.01'),
            name: z.string().trim().min(1).max(200),
            lat: z.number().min(-90).max(90),
            lon: z.number().min(-180).max(180),
          }),
          response: { 200: station, 201: station, 400: errorResponse, 403: errorResponse, 409: errorResponse },
        },
      },
      async (request, reply) => {
        if (request.auth.departmentId)
          throw new ForbiddenError('The station register is city-wide: adding to it needs a key without a department.');
        const { station: s, created } = await deps.services.catalog.addStation(request.body, {
          actor: actorOf(request.auth),
          scope: request.auth,
          now: deps.now(),
        });
        return reply.code(created ? 201 : 200).send(view(s));
      },
    );
  };
}
