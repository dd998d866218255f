/**
 * OwnTracks location messages (https://owntracks.org/booklet/tech/json/), published by
 * the phone app on `owntracks/{user}/{device}`, read as Armada readings. The fields map
 * onto the Armada contract (tst → ts, vel → speedKmh, cog → headingDeg, alt → altitudeM)
 * and go through the same validation; the rest (accuracy, phone battery, tracker id,
 * connection) is kept as attributes. OwnTracks carries no fuel data.
 */
import { depthRejection, MAX_PAYLOAD_BYTES, nulRejection, parseReading, scanPayload, type ParseResult } from './telemetry.js';

/**
 * The largest tst taken as epoch seconds (the year 5138). Epoch milliseconds of any date
 * since 1973 are larger: a sender that mixed the units up gets a reason that says so.
 */
const MAX_TST_S = 1e11;
/** …and up to the same year in milliseconds; larger is neither, and validation names it. */
const MAX_TST_MS = 1e14;

/** Fields whose meaning differs from Armada's: renamed so nobody mistakes them. */
const RENAMED_ATTRIBUTES: Record<string, string> = { acc: 'accuracyM', batt: 'phoneBatteryPercent', vac: 'verticalAccuracyM' };
const MAPPED = new Set(['_type', 'tst', 'lat', 'lon', 'vel', 'cog', 'alt']);

export function parseOwnTracksPayload(payload: Uint8Array): ParseResult {
  try {
    return parseUnguarded(payload);
  } catch (err) {
    // Not expected (every input has a reason below); the message still goes to quarantine.
    return { readings: [], rejections: [{ reason: 'parse_failed', detail: `the parser failed: ${(err as Error).message}`, raw: null }] };
  }
}

function parseUnguarded(payload: Uint8Array): ParseResult {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return {
      readings: [],
      rejections: [{ reason: 'payload_too_large', detail: `${payload.byteLength} bytes; the limit is ${MAX_PAYLOAD_BYTES}`, raw: null }],
    };
  }
  const shape = scanPayload(payload);
  const tooDeep = depthRejection(shape);
  if (tooDeep) return { readings: [], rejections: [tooDeep] };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch (err) {
    return { readings: [], rejections: [{ reason: 'not_json', detail: (err as Error).message, raw: null }] };
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
    return { readings: [], rejections: [{ reason: 'not_an_object', detail: 'an OwnTracks message is a JSON object', raw: null }] };
  }
  const nul = shape.hasNul ? nulRejection(decoded) : null;
  if (nul) return { readings: [], rejections: [{ ...nul, raw: null }] };
  const message = decoded as Record<string, unknown>;
  if (message._type !== 'location') {
    return {
      readings: [],
      rejections: [
        {
          reason: 'not_a_location',
          detail: `OwnTracks _type ${JSON.stringify(message._type ?? null).slice(0, 40)} carries no position`,
          raw: null,
        },
      ],
    };
  }
  const tst = message.tst;
  if (typeof tst === 'number' && tst > MAX_TST_S && tst < MAX_TST_MS) {
    const asMs = new Date(tst).toISOString();
    return {
      readings: [],
      rejections: [
        {
          reason: 'timestamp_in_milliseconds',
          detail: `tst ${tst} is epoch milliseconds (${asMs}); OwnTracks sends tst in epoch seconds`,
          raw: null,
        },
      ],
    };
  }
  const candidate: Record<string, unknown> = {
    // Epoch seconds; a non-number is passed on as it is, for validation to name it.
    ts: typeof tst === 'number' ? Math.round(tst * 1000) : tst,
    lat: message.lat,
    lon: message.lon,
    speedKmh: message.vel,
    headingDeg: message.cog,
    altitudeM: message.alt,
  };
  for (const [key, value] of Object.entries(message)) {
    if (MAPPED.has(key)) continue;
    // Own names only (a field called `constructor` is not Object.prototype's), and defined,
    // not assigned, so that even `__proto__` stays an ordinary field.
    const name = Object.hasOwn(RENAMED_ATTRIBUTES, key) ? RENAMED_ATTRIBUTES[key]! : key;
    Object.defineProperty(candidate, name, { value, enumerable: true, writable: true, configurable: true });
  }
  if (tst === undefined) delete candidate.ts;
  const one = parseReading(candidate);
  if ('reason' in one) {
    const detail = one.detail
      .replace(/\bts\b/, 'tst')
      .replace(/speedKmh/, 'vel')
      .replace(/headingDeg/, 'cog')
      .replace(/altitudeM/, 'alt');
    return { readings: [], rejections: [{ reason: one.reason, detail, raw: null }] };
  }
  return { readings: [one], rejections: [] };
}
