/** POST/GET /month-closings: finance signs off a finished month; its reports are frozen from then on. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALL_DEPARTMENTS } from '../../repositories/scope.js';
import { ForbiddenError } from '../../errors.js';
import { actorOf } from '../../finance/audit.js';
import type { AppDeps } from '../app.js';
import { requireRole } from '../auth.js';
import { errorResponse } from '../schemas.js';
import { monthParam } from './reconciliation.js';

const closing = z.object({
  month: z.string(),
  closedAt: z.string(),
  closedBy: z.object({ keyId: z.string().nullable(), keyName: z.string().nullable() }),
});

export function monthClosingRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { closings, vehicles, departments } = deps.repos;
  return async (app) => {
    app.post(
      '/month-closings',
      {
        preHandler: requireRole('admin', 'finance'),
        schema: {
          tags: ['finance'],
          summary: 'Close a finished month: its savings and reconciliation reports are stored as they are and answered from then on',
          description:
            'City-wide: only a finance or admin key without a department may close a month. 409 `month_not_over` before the month ' +
            'has ended (REPORT_TZ), `already_closed` when it is. ' +
            'Receipts or readings for a closed month that arrive later show as adjustments in the next month.',
          body: z.object({ month: monthParam }),
          response: { 201: closing, 400: errorResponse, 403: errorResponse, 409: errorResponse },
        },
      },
      async (request, reply) => {
        if (request.auth.departmentId)
          throw new ForbiddenError('Closing a month closes it for every department: only a key without a department may do it.');
        const fleet = await vehicles.list(ALL_DEPARTMENTS);
        const names = new Map((await departments.list(ALL_DEPARTMENTS)).map((d) => [d.id, d.name]));
        const row = await deps.services.closing.close(request.body.month, fleet, names, actorOf(request.auth), deps.now().getTime());
        return reply.code(201).send({
          month: row.month,
          closedAt: new Date(row.closedAtMs).toISOString(),
          closedBy: { keyId: row.closedByKeyId, keyName: row.closedByKeyName },
        });
      },
    );

    app.get(
      '/month-closings',
      {
        schema: {
          tags: ['finance'],
          summary: 'Closed months, newest first',
          response: { 200: z.array(closing) },
        },
      },
      async () =>
        (await closings.list()).map((row) => ({
          month: row.month,
          closedAt: new Date(row.closedAtMs).toISOString(),
          closedBy: { keyId: row.closedByKeyId, keyName: row.closedByKeyName },
        })),
    );
  };
}
