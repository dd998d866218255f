/**
 * The telemetry payload contract (docs/mqtt.md) and its parser.
 * Pure: bytes in, readings or reasons out. The parser never throws; every input
 * ends as a reading or as a rejection with a reason that goes to quarantine.
 */
import { z } from 'zod';

/** A reading as the rest of Armada sees it: validated, units in the names, fix time in epoch ms. */
export interface Reading {
  fixAtMs: number;
  lat: number;
  lon: number;
  speedKmh: number | null;
  headingDeg: number | null;
  altitudeM: number | null;
  satellites: number | null;
  hdop: number | null;
  ignition: boolean | null;
  odometerKm: number | null;
  fuelLitres: number | null;
  fuelPercent: number | null;
  fuelUsedLitres: number | null;
  batteryV: number | null;
  seq: number | null;
  /** Fields the contract does not name, kept as they came. */
  attributes: Record<string, unknown> | null;
}

/** Why a message, or one element of an array, was not stored. Stable: metrics and queries use them. */
export const rejectReasons = [
  'payload_too_large',
  'not_json',
  'not_an_object',
  'empty_batch',
  'batch_too_large',
  'missing_field',
  'invalid_field',
  'invalid_coordinates',
  'null_island',
  'future_timestamp',
  'too_old',
  'implausible_jump',
  'wrong_protocol',
  'unknown_topic',
  'unknown_device',
  'inactive_device',
  'not_a_location',
  'too_deeply_nested',
  'nul_character',
  'timestamp_in_milliseconds',
  'parse_failed',
  'poison',
  'quarantine_cap',
  'beyond_retention',
] as const;
export type RejectReason = (typeof rejectReasons)[number];

export interface Rejection {
  reason: RejectReason;
  detail: string;
  /** The array element that was rejected, as JSON; null when the whole payload was. */
  raw: string | null;
}

export interface ParseResult {
  readings: Reading[];
  rejections: Rejection[];
}

export const MAX_PAYLOAD_BYTES = 256 * 1024;
export const MAX_READINGS_PER_MESSAGE = 5000;
/**
 * Deepest nesting of arrays and objects a payload may have (the batch array, the reading,
 * and 30 levels of attributes). Deeper values overflow the stack of anything recursive
 * that touches them later (JSON.stringify, String(), the database's JSON parser).
 */
export const MAX_JSON_DEPTH = 32;

const optionalNumber = (schema: z.ZodNumber) => schema.nullish();

/** Epoch ms before 2000 are almost surely epoch seconds or a device with no clock yet. */
const EARLIEST_FIX_MS = Date.UTC(2000, 0, 1);

const readingSchema = z.looseObject({
  ts: z.union([
    z.iso.datetime({ offset: true }),
    z.number().int().min(EARLIEST_FIX_MS, { message: 'epoch milliseconds before 2000 (epoch seconds sent as milliseconds?)' }),
  ]),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  speedKmh: optionalNumber(z.number().min(0).max(500)),
  headingDeg: optionalNumber(z.number().min(0).max(360)),
  altitudeM: optionalNumber(z.number().min(-1000).max(20000)),
  satellites: optionalNumber(z.number().int().min(0).max(255)),
  hdop: optionalNumber(z.number().min(0).max(100)),
  ignition: z.boolean().nullish(),
  odometerKm: optionalNumber(z.number().min(0).max(10_000_000)),
  fuelLitres: optionalNumber(z.number().min(0).max(5000)),
  fuelPercent: optionalNumber(z.number().min(0).max(100)),
  fuelUsedLitres: optionalNumber(z.number().min(0)),
  batteryV: optionalNumber(z.number().min(0).max(100)),
  seq: optionalNumber(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)),
});

const knownFields = new Set(Object.keys(readingSchema.shape));

const RAW_ELEMENT_MAX_CHARS = 4096;

const REQUIRED_FIELDS = ['ts', 'lat', 'lon'] as const;

function describeIssues(element: Record<string, unknown>, error: z.ZodError): { reason: RejectReason; detail: string } {
  const missing = REQUIRED_FIELDS.filter((f) => element[f] === undefined || element[f] === null);
  if (missing.length > 0)
    return { reason: 'missing_field', detail: `required field${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')}` };
  const detail = error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  if (error.issues.some((i) => i.path[0] === 'lat' || i.path[0] === 'lon')) return { reason: 'invalid_coordinates', detail };
  return { reason: 'invalid_field', detail };
}

function toReading(value: z.infer<typeof readingSchema>): Reading {
  const attributes = attributesOf(value);
  return {
    fixAtMs: typeof value.ts === 'number' ? value.ts : Date.parse(value.ts),
    lat: value.lat,
    lon: value.lon,
    speedKmh: value.speedKmh ?? null,
    headingDeg: value.headingDeg ?? null,
    altitudeM: value.altitudeM ?? null,
    satellites: value.satellites ?? null,
    hdop: value.hdop ?? null,
    ignition: value.ignition ?? null,
    odometerKm: value.odometerKm ?? null,
    fuelLitres: value.fuelLitres ?? null,
    fuelPercent: value.fuelPercent ?? null,
    fuelUsedLitres: value.fuelUsedLitres ?? null,
    batteryV: value.batteryV ?? null,
    seq: value.seq ?? null,
    attributes,
  };
}

/** An element as JSON for the quarantine; never throws (String() of a cyclic or deep value can). */
function stringifyElement(element: unknown): string {
  try {
    const s = JSON.stringify(element) ?? 'undefined';
    return s.length > RAW_ELEMENT_MAX_CHARS ? s.slice(0, RAW_ELEMENT_MAX_CHARS) : s;
  } catch (err) {
    return `(not representable as JSON: ${(err as Error).message})`;
  }
}

export interface PayloadShape {
  /** Deepest nesting of arrays and objects. */
  depth: number;
  /** A string holds the escape \u0000, which PostgreSQL cannot store in text or jsonb. */
  hasNul: boolean;
}

/**
 * One pass over the raw bytes, before JSON.parse: how deep the nesting goes, and whether a
 * string escapes U+0000. Bytes, not characters: UTF-8 continuation bytes never equal the
 * ASCII ones looked for. Invalid JSON gives some figure; JSON.parse then says what is wrong.
 */
export function scanPayload(payload: Uint8Array): PayloadShape {
  let depth = 0;
  let maxDepth = 0;
  let inString = false;
  let hasNul = false;
  for (let i = 0; i < payload.length; i++) {
    const b = payload[i]!;
    if (inString) {
      if (b === 0x5c) {
        // \u0000: a backslash, u, and four zeros.
        const zeros = payload[i + 2] === 0x30 && payload[i + 3] === 0x30 && payload[i + 4] === 0x30 && payload[i + 5] === 0x30;
        if (payload[i + 1] === 0x75 && zeros) hasNul = true;
        i++;
      } else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > maxDepth) maxDepth = depth;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return { depth: maxDepth, hasNul };
}

/** The first NUL in a decoded value's strings (keys too), as a path like `note` or `tags.2`; null if none. */
function nulPath(value: unknown, path: string, depthLeft: number): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || '(value)' : null;
  if (typeof value !== 'object' || value === null || depthLeft <= 0) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], path ? `${path}.${i}` : String(i), depthLeft - 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    const name = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return `${name.replaceAll('\u0000', '\\u0000')} (the name)`;
    const found = nulPath((value as Record<string, unknown>)[key], name, depthLeft - 1);
    if (found !== null) return found;
  }
  return null;
}

/** A rejection for a value holding U+0000, or null. Only called when the scan saw one. */
export function nulRejection(value: unknown): Omit<Rejection, 'raw'> | null {
  const path = nulPath(value, '', MAX_JSON_DEPTH + 1);
  return path === null
    ? null
    : { reason: 'nul_character', detail: `${path}: a string holds U+0000 (\\u0000), which PostgreSQL cannot store` };
}

/** Rejects a payload nested deeper than MAX_JSON_DEPTH, before anything recursive touches it. */
export function depthRejection(shape: PayloadShape): Rejection | null {
  return shape.depth > MAX_JSON_DEPTH
    ? { reason: 'too_deeply_nested', detail: `arrays and objects nested ${shape.depth} deep; the limit is ${MAX_JSON_DEPTH}`, raw: null }
    : null;
}

/** RFC 3339 date-time with seconds and a zone, as z.iso.datetime({ offset: true }) takes it. */
const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/;

function isIsoDateTime(s: string): boolean {
  const m = ISO_DATETIME.exec(s);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  if (day > daysInMonth) return false;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return false;
  return m[7] === undefined || (Number(m[7]) <= 23 && Number(m[8]) <= 59);
}

/** A finite number within [min, max]; an integer too when asked. */
const inRange = (v: unknown, min: number, max: number, integer = false): v is number =>
  typeof v === 'number' && v >= min && v <= max && (integer ? Number.isInteger(v) : Number.isFinite(v));

/** The same value as the schema's optional number: null when absent, undefined when invalid. */
function optional(v: unknown, min: number, max: number, integer = false): number | null | undefined {
  if (v === undefined || v === null) return null;
  return inRange(v, min, max, integer) ? v : undefined;
}

/**
 * The parser's fast path: a reading that is valid in the way almost all of them are,
 * checked by hand. It returns undefined for anything else, and the schema then judges
 * that element and says precisely what is wrong with it. It must never accept what the
 * schema refuses: tests/unit/telemetry.test.ts checks the two agree on generated input.
 * The schema alone cost about half of the worker's parsing time.
 */
function quickReading(o: Record<string, unknown>): Reading | undefined {
  const ts = o.ts;
  let fixAtMs: number;
  if (typeof ts === 'number') {
    if (!Number.isSafeInteger(ts) || ts < EARLIEST_FIX_MS) return undefined;
    fixAtMs = ts;
  } else if (typeof ts === 'string' && isIsoDateTime(ts)) {
    fixAtMs = Date.parse(ts);
    if (Number.isNaN(fixAtMs)) return undefined;
  } else return undefined;
  const lat = o.lat;
  const lon = o.lon;
  if (!inRange(lat, -90, 90) || !inRange(lon, -180, 180)) return undefined;
  const speedKmh = optional(o.speedKmh, 0, 500);
  const headingDeg = optional(o.headingDeg, 0, 360);
  const altitudeM = optional(o.altitudeM, -1000, 20000);
  const satellites = optional(o.satellites, 0, 255, true);
  const hdop = optional(o.hdop, 0, 100);
  const odometerKm = optional(o.odometerKm, 0, 10_000_000);
  const fuelLitres = optional(o.fuelLitres, 0, 5000);
  const fuelPercent = optional(o.fuelPercent, 0, 100);
  const fuelUsedLitres = optional(o.fuelUsedLitres, 0, Number.MAX_VALUE);
  const batteryV = optional(o.batteryV, 0, 100);
  const seq = optional(o.seq, 0, Number.MAX_SAFE_INTEGER, true);
  if (
    speedKmh === undefined ||
    headingDeg === undefined ||
    altitudeM === undefined ||
    satellites === undefined ||
    hdop === undefined ||
    odometerKm === undefined ||
    fuelLitres === undefined ||
    fuelPercent === undefined ||
    fuelUsedLitres === undefined ||
    batteryV === undefined ||
    seq === undefined
  ) {
    return undefined;
  }
  const ignition = o.ignition;
  if (ignition !== undefined && ignition !== null && typeof ignition !== 'boolean') return undefined;
  return {
    fixAtMs,
    lat,
    lon,
    speedKmh,
    headingDeg,
    altitudeM,
    satellites,
    hdop,
    ignition: ignition ?? null,
    odometerKm,
    fuelLitres,
    fuelPercent,
    fuelUsedLitres,
    batteryV,
    seq,
    attributes: attributesOf(o),
  };
}

/** The fields the contract does not name, kept as they came; null when there are none. */
function attributesOf(o: Record<string, unknown>): Record<string, unknown> | null {
  let attributes: Record<string, unknown> | null = null;
  for (const key of Object.keys(o)) {
    if (knownFields.has(key)) continue;
    attributes ??= {};
    // defineProperty: a key named __proto__ is kept as data, not taken as the prototype.
    Object.defineProperty(attributes, key, { value: o[key], enumerable: true, writable: true, configurable: true });
  }
  return attributes;
}

/** Validates one decoded JSON value as a reading. */
export function parseReading(element: unknown): Reading | Omit<Rejection, 'raw'> {
  if (typeof element !== 'object' || element === null || Array.isArray(element)) {
    return {
      reason: 'not_an_object',
      detail: `expected a JSON object, got ${Array.isArray(element) ? 'an array' : element === null ? 'null' : typeof element}`,
    };
  }
  const quick = quickReading(element as Record<string, unknown>);
  if (quick) return quick;
  return parseWithSchema(element as Record<string, unknown>);
}

/** The schema's verdict: a reading, or exactly what is wrong. */
export function parseWithSchema(element: Record<string, unknown>): Reading | Omit<Rejection, 'raw'> {
  const parsed = readingSchema.safeParse(element);
  if (!parsed.success) return describeIssues(element, parsed.error);
  return toReading(parsed.data);
}

/** The fast path alone, for tests that hold it to the schema. */
export const quickReadingForTests = quickReading;

function isRejection(x: Reading | Omit<Rejection, 'raw'>): x is Omit<Rejection, 'raw'> {
  return 'reason' in x;
}

/**
 * Parses an Armada telemetry payload: one JSON object, or an array of them.
 * In an array each element stands alone: good ones are kept, bad ones rejected.
 */
export function parseTelemetryPayload(payload: Uint8Array): ParseResult {
  try {
    return parseTelemetryUnguarded(payload);
  } catch (err) {
    // Not expected: every input has a reason above. Should a case have been missed, the
    // message still goes to quarantine instead of failing its whole batch.
    return { readings: [], rejections: [{ reason: 'parse_failed', detail: `the parser failed: ${(err as Error).message}`, raw: null }] };
  }
}

function parseTelemetryUnguarded(payload: Uint8Array): ParseResult {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return {
      readings: [],
      rejections: [{ reason: 'payload_too_large', detail: `${payload.byteLength} bytes; the limit is ${MAX_PAYLOAD_BYTES}`, raw: null }],
    };
  }
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  let decoded: unknown;
  try {
    // V8's JSON.parse keeps its own stack: no nesting overflows it, so the depth is judged after.
    decoded = JSON.parse(text);
  } catch (err) {
    const tooDeep = depthRejection(scanPayload(payload));
    return { readings: [], rejections: [tooDeep ?? { reason: 'not_json', detail: (err as Error).message, raw: null }] };
  }
  // Almost every message: one object of the contract's fields alone, valid as they came.
  // Nothing in it is nested or can hold U+0000 (its one string, the time, matched a
  // pattern), so the bytes are read once, by JSON.parse, and the fields checked once.
  if (typeof decoded === 'object' && decoded !== null && !Array.isArray(decoded)) {
    const quick = quickReading(decoded as Record<string, unknown>);
    if (quick !== undefined && quick.attributes === null) return { readings: [quick], rejections: [] };
  }
  const shape = scanPayload(payload);
  const tooDeep = depthRejection(shape);
  if (tooDeep) return { readings: [], rejections: [tooDeep] };
  if (!Array.isArray(decoded)) {
    const nul = shape.hasNul ? nulRejection(decoded) : null;
    if (nul) return { readings: [], rejections: [{ ...nul, raw: null }] };
    const one = parseReading(decoded);
    return isRejection(one) ? { readings: [], rejections: [{ ...one, raw: null }] } : { readings: [one], rejections: [] };
  }
  if (decoded.length === 0) return { readings: [], rejections: [{ reason: 'empty_batch', detail: 'an empty array', raw: null }] };
  if (decoded.length > MAX_READINGS_PER_MESSAGE) {
    return {
      readings: [],
      rejections: [
        { reason: 'batch_too_large', detail: `${decoded.length} readings; the limit is ${MAX_READINGS_PER_MESSAGE}`, raw: null },
      ],
    };
  }
  const result: ParseResult = { readings: [], rejections: [] };
  decoded.forEach((element, index) => {
    const one = (shape.hasNul ? nulRejection(element) : null) ?? parseReading(element);
    if (isRejection(one)) result.rejections.push({ ...one, detail: `element ${index}: ${one.detail}`, raw: stringifyElement(element) });
    else result.readings.push(one);
  });
  return result;
}
