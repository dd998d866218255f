/**
 * What goes wrong with a tracker, as it does in the field: bad fixes (at (0, 0), or
 * jumped kilometres away) and coverage gaps, during which the tracker keeps its readings
 * and sends them as a backlog when coverage returns (recorded as `offline` in the truth).
 */
import { backlogPayloads, topicFor, type Payload } from '../formats.js';
import { offsetM, type LatLon } from '../kupang.js';
import { exponential, logUniform } from '../random.js';
import type { ReadingTruth, SimMessage } from './messages.js';
import { emit, publish, type Context, type VehicleState } from './state.js';
import { vehicleRef } from './truth-records.js';
import { DAY_S, HOUR_S } from './units.js';

export type BadFix = ReadingTruth['badFix'];

/** A tracker keeps at most this many readings while out of coverage, dropping the oldest. */
const MAX_BACKLOG_READINGS = 20_000;

/** Half the bad fixes are at (0, 0), half jumped away: `roll` is uniform in [0, 1). */
export function badFixKind(roll: number, badFixRate: number): BadFix {
  return roll < badFixRate / 2 ? 'null-island' : roll < badFixRate ? 'jump' : null;
}

/** The position the receiver reports: the true one with its noise, or a bad fix. */
export function reportedPosition(
  truePosition: LatLon,
  badFix: BadFix,
  noise: { northM: number; eastM: number },
  jump: { bearingRad: number; distanceM: number },
): LatLon {
  if (badFix === 'null-island') return { lat: 0, lon: 0 };
  if (badFix === 'jump')
    return offsetM(truePosition, Math.cos(jump.bearingRad) * jump.distanceM, Math.sin(jump.bearingRad) * jump.distanceM);
  return offsetM(truePosition, noise.northM, noise.eastM);
}

/** What the receiver says of its fix: no satellites at (0, 0), few on a jump, and a poor dilution and accuracy for both. */
export function fixQuality(badFix: BadFix, satellites: number, hdop: number): { satellites: number; hdop: number; accuracyM: number } {
  return {
    satellites: badFix === 'null-island' ? 0 : badFix === 'jump' ? 3 : satellites,
    hdop: badFix === null ? hdop : 25,
    accuracyM: badFix === null ? Math.max(3, Math.round(hdop * 4)) : 120,
  };
}

/** When the next coverage gap begins, after `fromS` (never, with a rate of 0). */
export function nextOutageFrom(s: VehicleState, ctx: Context, fromS: number): number {
  const rate = ctx.opts.offlineRatePerDay;
  const wait = exponential(s.offlineRng, rate > 0 ? rate / DAY_S : 1);
  return rate > 0 ? fromS + Math.max(60, Math.round(wait)) : Number.POSITIVE_INFINITY;
}

/** Coverage is lost now, for 5 minutes to 4 hours. */
export function startOutage(s: VehicleState): void {
  s.outage = { startS: s.tS, endS: s.tS + Math.round(logUniform(s.offlineRng, 300, 4 * HOUR_S)), payloads: [], truth: [] };
}

/** A reading taken out of coverage waits in the tracker's memory. */
export function bufferReading(s: VehicleState, ctx: Context, payload: Payload, truth: ReadingTruth): void {
  const outage = s.outage!;
  outage.payloads.push(payload);
  if (ctx.opts.readingTruth) outage.truth.push(truth);
  if (outage.payloads.length > MAX_BACKLOG_READINGS) {
    outage.payloads.shift();
    outage.truth.shift();
  }
}

/** Coverage is back (or the run ends, `incomplete`): the backlog goes out now, and the gap is recorded. */
export function flushOutage(s: VehicleState, ctx: Context, incomplete: boolean): void {
  const outage = s.outage!;
  s.outage = null;
  const deviceId = s.setup.spec.deviceId;
  const topic = topicFor(ctx.opts.format, deviceId);
  let offset = 0;
  for (const payload of backlogPayloads(ctx.opts.format, outage.payloads)) {
    const count = Array.isArray(payload) ? payload.length : 1;
    const message: SimMessage = { atMs: ctx.opts.startMs + s.tS * 1000, deviceId, topic, payload, readings: count };
    if (ctx.opts.readingTruth) message.truth = outage.truth.slice(offset, offset + count);
    offset += count;
    publish(s, message);
  }
  emit(s, {
    type: 'offline',
    ...vehicleRef(s),
    startAt: ctx.iso(outage.startS),
    endAt: ctx.iso(s.tS),
    readings: outage.payloads.length,
    ...(incomplete ? { incomplete: true as const } : {}),
  });
  s.nextOutageS = nextOutageFrom(s, ctx, s.tS);
}
