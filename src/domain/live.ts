/**
 * The payload the ingest worker publishes on `fleet/v1/live/{departmentId}/{vehicleId}`
 * once a reading is committed and has become the vehicle's newest fix.
 */
import { z } from 'zod';
import type { BoundReading } from './ingest-types.js';

export const livePositionSchema = z.object({
  vehicleId: z.string(),
  departmentId: z.string(),
  deviceId: z.string(),
  at: z.string(),
  lat: z.number(),
  lon: z.number(),
  speedKmh: z.number().nullable(),
  headingDeg: z.number().nullable(),
  fuelLitres: z.number().nullable(),
  fuelPercent: z.number().nullable(),
  ignition: z.boolean().nullable(),
  batteryV: z.number().nullable(),
});
export type LivePosition = z.infer<typeof livePositionSchema>;

/** What a live position is made of: the reading's fields, its vehicle and department. */
export interface LivePositionSource {
  vehicleId: string;
  departmentId: string;
  reading: Pick<
    BoundReading,
    'deviceId' | 'fixAtMs' | 'lat' | 'lon' | 'speedKmh' | 'headingDeg' | 'fuelLitres' | 'fuelPercent' | 'ignition' | 'batteryV'
  >;
}

/** A finite number as JSON writes it, or null (JSON has no NaN or infinity either). */
const num = (x: number | null) => (x === null || !Number.isFinite(x) ? 'null' : String(x));

/** Characters JSON writes as they are: ids (uuids, device ids) are made of these alone. */
const PLAIN = /^[A-Za-z0-9_.:@/-]*$/;
/** A string as JSON writes it; JSON.stringify only when it must escape (it costs some 300 ns). */
const str = (s: string) => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const DAY_MS = 86_400_000;

/**
 * `new Date(ms).toISOString()` for the years 1000–9999, by arithmetic (days to a civil date
 * as in Howard Hinnant's `civil_from_days`): the Date object and its formatting cost some
 * 700 ns, and the worker writes one for every reading it announces. Other years go to
 * toISOString. tests/unit/live-payload.test.ts holds the two equal.
 */
export function isoFromMs(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 1000 || year > 9999 || !Number.isInteger(ms)) return new Date(ms).toISOString();
  let rest = ms - days * DAY_MS;
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const milli = rest - second * 1000;
  return `${year}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}:${two(second)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/**
 * The live position as JSON text, the fields in `livePositionSchema`'s order: exactly what
 * JSON.stringify writes for the object, built in one template. The worker writes one for
 * every reading that moves its vehicle forward: through an object and JSON.stringify it
 * cost about 2.5 µs a reading, and about a microsecond here
 * (tests/unit/live-payload.test.ts holds the two equal).
 */
export function livePositionJson(s: LivePositionSource): string {
  const r = s.reading;
  return (
    `{"vehicleId":${str(s.vehicleId)},"departmentId":${str(s.departmentId)},` +
    `"deviceId":${str(r.deviceId)},"at":"${isoFromMs(r.fixAtMs)}",` +
    `"lat":${num(r.lat)},"lon":${num(r.lon)},"speedKmh":${num(r.speedKmh)},"headingDeg":${num(r.headingDeg)},` +
    `"fuelLitres":${num(r.fuelLitres)},"fuelPercent":${num(r.fuelPercent)},` +
    `"ignition":${r.ignition === null ? 'null' : r.ignition ? 'true' : 'false'},"batteryV":${num(r.batteryV)}}`
  );
}
