import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BadRequestError, ForbiddenError } from '../../errors.js';
import { rejectReasons } from '../../domain/telemetry.js';
import { requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { errorResponse, isoTime } from '../schemas.js';

const entry = z.object({
  id: z.number(),
  receivedAt: z.string(),
  topic: z.string(),
  deviceId: z.string().nullable(),
  reason: z.enum(rejectReasons),
  detail: z.string().nullable(),
  payload: z.string().describe('The raw payload as UTF-8 text (cut at 16 KiB)'),
  payloadBase64: z.string().describe('The same bytes, exactly, in base64'),
  payloadBytes: z.number().describe('The size of the whole payload as received'),
  timesSeen: z
    .number()
    .describe('How often this payload came on this topic for this reason: a redelivery or a device repeating itself adds to this row'),
  lastReceivedAt: z.string().describe('When it last came (receivedAt is the first time)'),
});

export function quarantineRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/quarantine',
      {
        preHandler: requireRole('admin'),
        schema: {
          tags: ['ingest'],
          summary:
            'Telemetry that could not be stored, by the last time it came, newest first, with the reason (admin without a department)',
          querystring: z.object({
            from: isoTime.optional().describe('Default: 24 hours before `to`'),
            to: isoTime.optional().describe('Default: now'),
            reason: z.enum(rejectReasons).optional(),
            deviceId: z.string().max(129).optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
          }),
          response: { 200: z.array(entry), 400: errorResponse, 403: errorResponse },
        },
      },
      async (request) => {
        // Quarantined messages often have no vehicle (unknown devices, bad topics), so they
        // cannot be sorted by department: only a key for the whole city may read them.
        if (request.auth.departmentId)
          throw new ForbiddenError('The quarantine spans all departments: it needs an admin key without a department.');
        const toMs = request.query.to ? Date.parse(request.query.to) : deps.now().getTime() + 1;
        const fromMs = request.query.from ? Date.parse(request.query.from) : toMs - 86_400_000;
        if (fromMs >= toMs) throw new BadRequestError('`from` must be before `to`.');
        const rows = await deps.repos.quarantine.list({ ...request.query, fromMs, toMs });
        return rows.map((r) => {
          const bytes = Buffer.from(r.payload);
          return {
            id: r.id,
            receivedAt: r.receivedAt.toISOString(),
            topic: r.topic,
            deviceId: r.deviceId,
            reason: r.reason as (typeof rejectReasons)[number],
            detail: r.detail,
            payload: bytes.toString('utf8'),
            payloadBase64: bytes.toString('base64'),
            payloadBytes: r.payloadBytes,
            timesSeen: r.timesSeen,
            lastReceivedAt: r.lastReceivedAt.toISOString(),
          };
        });
      },
    );
  };
}
