/** Query parameters and rounding shared by the report endpoints (trips, stops, fuel, reports). */
import { z } from 'zod';
import { BadRequestError } from '../errors.js';
import { isoTime } from './schemas.js';

const DAY_MS = 86_400_000;

export const formatParam = z.enum(['json', 'csv']).optional().describe('`csv` for RFC 4180 CSV (or send `Accept: text/csv`)');

export const periodParams = {
  from: isoTime.optional().describe('Start (ISO 8601 with zone). Default: 24 hours before `to`'),
  to: isoTime.optional().describe('End, exclusive (ISO 8601 with zone). Default: now'),
  format: formatParam,
};

const booleanParam = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** Per-request overrides of the trip thresholds (Traccar's report.trip.* names, with units). */
export const tripOverrideParams = {
  minTripDistanceM: z.coerce
    .number()
    .min(0)
    .max(1_000_000)
    .optional()
    .describe('A trip covers at least this distance or lasts minTripDurationS'),
  minTripDurationS: z.coerce.number().min(0).max(86_400).optional(),
  minStopDurationS: z.coerce.number().min(0).max(86_400).optional().describe('Standing at least this long is a stop'),
  minGapS: z.coerce
    .number()
    .min(1)
    .max(7 * 86_400)
    .optional()
    .describe('A gap in the data at least this long ends a trip'),
  minMotionSpeedKmh: z.coerce.number().min(0).max(100).optional().describe('A reading faster than this is moving'),
  useIgnition: booleanParam.optional().describe('Ignition off ends a stop’s wait at once; a reading with the ignition off is not moving'),
};

export function resolvePeriod(
  query: { from?: string | undefined; to?: string | undefined },
  nowMs: number,
  defaults: { fromMs?: (toMs: number) => number; maxDays: number },
): { fromMs: number; toMs: number } {
  const toMs = query.to ? Date.parse(query.to) : nowMs;
  const fromMs = query.from ? Date.parse(query.from) : (defaults.fromMs?.(toMs) ?? toMs - DAY_MS);
  if (!(fromMs < toMs)) throw new BadRequestError('`from` must be before `to`.');
  if (toMs - fromMs > defaults.maxDays * DAY_MS)
    throw new BadRequestError(`A period spans at most ${defaults.maxDays} days here; ask for a shorter one.`);
  return { fromMs, toMs };
}

export const round = (x: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
};
export const roundOrNull = (x: number | null, decimals: number): number | null => (x === null ? null : round(x, decimals));
export const isoOf = (ms: number): string => new Date(ms).toISOString();
