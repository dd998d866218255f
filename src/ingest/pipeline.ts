/**
 * The ingest pipeline: an ordered list of named steps from a raw MQTT message to
 * readings bound to a vehicle, or to rejections with a reason (in the manner of
 * Traccar's ProcessingHandler and FilterHandler):
 *
 *   1. topic → device id and protocol      (unknown_topic)
 *   2. device → vehicle                    (unknown_device, inactive_device, wrong_protocol)
 *   3. payload → readings                  (not_json, missing_field, invalid_field, …)
 *   4. reading filters, in order           (null_island, future_timestamp, beyond_retention, too_old, implausible_jump)
 *
 * The worker commits what it returns. Apart from the device lookup the steps are pure;
 * the jump filter remembers each vehicle's newest accepted fix in this process. That
 * memory starts from the committed latest positions (so a jump across a restart is
 * caught), and after a failed commit it is dropped and read again: fixes that were
 * never committed must not vouch for the redelivered readings judged against them. The
 * fixes it rejected as jumps are remembered apart (a few per vehicle): redelivered after
 * a newer fix was committed meanwhile (commits overlap), a jump would otherwise be older
 * than the newest fix, and older readings are not judged.
 */
import { haversineM } from '../domain/geo.js';
import { parseOwnTracksPayload } from '../domain/owntracks.js';
import { beyondRetention } from '../domain/retention.js';
import { parseTelemetryPayload, type Reading, type RejectReason } from '../domain/telemetry.js';
import { deviceFromTopic, ownTracksTopic, ownTracksUsername } from '../domain/topics.js';
import type { DeviceIdentity } from '../repositories/devices.js';
import type { BoundReading, QuarantineEntry } from '../repositories/telemetry.js';

export interface RawMessage {
  topic: string;
  payload: Buffer;
  receivedAtMs: number;
}

export interface PipelineResult {
  readings: BoundReading[];
  rejected: QuarantineEntry[];
}

export interface PipelineSettings {
  /** Readings whose fix time is later than receive time plus this are rejected. */
  maxFutureS: number;
  /** Readings whose fix time is older than this are rejected. */
  maxAgeDays: number;
  /** A fix implying a faster move from the vehicle's previous fix is a GPS jump. */
  maxImpliedSpeedKmh: number;
  /**
   * Where the kept raw telemetry begins (telemetry_dropped_months, src/ops/retention.ts):
   * older readings are `beyond_retention`. Undefined: nothing was dropped. The worker
   * updates it in place when the retention moves it.
   */
  keptFromMs?: number | undefined;
}

export type DeviceLookup = (deviceId: string) => DeviceIdentity | undefined | Promise<DeviceIdentity | undefined>;

export interface Fix {
  fixAtMs: number;
  lat: number;
  lon: number;
}

/** Each vehicle's newest committed fix (vehicle_latest), to start the jump filter from. */
export type NewestFixLoader = () => Promise<Iterable<readonly [vehicleId: string, fix: Fix]>>;

interface FilterContext {
  message: RawMessage;
  settings: PipelineSettings;
  /** The vehicle's newest fix accepted so far, if any. */
  previous: Fix | undefined;
}

type Objection = { reason: RejectReason; detail: string };
/** A reading filter: null to keep the reading, or why it must not be stored. */
type ReadingFilter = (reading: Reading, context: FilterContext) => Objection | null;

const iso = (ms: number) => new Date(ms).toISOString();

export const readingFilters: ReadonlyArray<readonly [string, ReadingFilter]> = [
  ['nullIsland', (r) => (r.lat === 0 && r.lon === 0 ? { reason: 'null_island', detail: 'lat 0, lon 0: the receiver had no fix' } : null)],
  [
    'futureTimestamp',
    (r, { message, settings }) => {
      const aheadS = (r.fixAtMs - message.receivedAtMs) / 1000;
      return aheadS > settings.maxFutureS
        ? {
            reason: 'future_timestamp',
            detail: `fix time ${iso(r.fixAtMs)} is ${Math.round(aheadS)} s ahead of the receive time (limit ${settings.maxFutureS} s)`,
          }
        : null;
    },
  ],
  ['beyondRetention', (r, { settings }) => beyondRetention(r.fixAtMs, settings.keptFromMs)],
  [
    'tooOld',
    (r, { message, settings }) => {
      const ageDays = (message.receivedAtMs - r.fixAtMs) / 86_400_000;
      return ageDays > settings.maxAgeDays
        ? { reason: 'too_old', detail: `fix time ${iso(r.fixAtMs)} is ${Math.floor(ageDays)} days old (limit ${settings.maxAgeDays} days)` }
        : null;
    },
  ],
  [
    'impliedSpeed',
    (r, { previous, settings }) => {
      // Only forward in time: an older buffered reading is not judged against a newer fix.
      if (!previous || r.fixAtMs <= previous.fixAtMs) return null;
      const distanceM = haversineM(previous.lat, previous.lon, r.lat, r.lon);
      const seconds = Math.max(1, (r.fixAtMs - previous.fixAtMs) / 1000);
      const impliedKmh = (distanceM / seconds) * 3.6;
      return impliedKmh > settings.maxImpliedSpeedKmh
        ? {
            reason: 'implausible_jump',
            detail: `${Math.round(distanceM)} m in ${Math.round(seconds)} s from the fix at ${iso(previous.fixAtMs)} implies ${Math.round(impliedKmh)} km/h (limit ${settings.maxImpliedSpeedKmh})`,
          }
        : null;
    },
  ],
];

/** The reading with its device and vehicle, built field by field (one shape for all: the hot path). */
function bind(r: Reading, deviceId: string, device: DeviceIdentity, receivedAtMs: number): BoundReading {
  return {
    fixAtMs: r.fixAtMs,
    lat: r.lat,
    lon: r.lon,
    speedKmh: r.speedKmh,
    headingDeg: r.headingDeg,
    altitudeM: r.altitudeM,
    satellites: r.satellites,
    hdop: r.hdop,
    ignition: r.ignition,
    odometerKm: r.odometerKm,
    fuelLitres: r.fuelLitres,
    fuelPercent: r.fuelPercent,
    fuelUsedLitres: r.fuelUsedLitres,
    batteryV: r.batteryV,
    seq: r.seq,
    attributes: r.attributes,
    deviceId,
    vehicleId: device.vehicleId,
    departmentId: device.departmentId,
    receivedAtMs,
  };
}

/** The filters alone, in order, for the loop. */
const filters: readonly ReadingFilter[] = readingFilters.map(([, filter]) => filter);

export function createPipeline(deps: { lookupDevice: DeviceLookup; settings: PipelineSettings; loadNewestFixes?: NewestFixLoader }) {
  /** Each vehicle's newest accepted fix, for the jump filter. */
  let newestFix = new Map<string, Fix>();
  /** The memory must be (re)read from the database before the next batch. */
  let stale = deps.loadNewestFixes !== undefined;
  /** Fix times rejected as jumps, per vehicle, newest last (at most JUMPS_REMEMBERED). */
  const rejectedJumps = new Map<string, number[]>();
  const JUMPS_REMEMBERED = 32;

  async function reload(load: NewestFixLoader): Promise<void> {
    const fresh = new Map<string, Fix>();
    for (const [vehicleId, fix] of await load()) fresh.set(vehicleId, { fixAtMs: fix.fixAtMs, lat: fix.lat, lon: fix.lon });
    newestFix = fresh;
    stale = false;
  }

  async function processMessages(messages: readonly RawMessage[]): Promise<PipelineResult> {
    // A failed load fails this batch (it is redelivered), rather than judging without memory.
    if (stale && deps.loadNewestFixes) await reload(deps.loadNewestFixes);
    const result: PipelineResult = { readings: [], rejected: [] };
    const reject = (m: RawMessage, deviceId: string | null, reason: RejectReason, detail: string, payload = m.payload) =>
      result.rejected.push({ receivedAtMs: m.receivedAtMs, topic: m.topic, deviceId, reason, detail, payload });

    for (const message of messages) {
      // 1. topic → device id and protocol
      const source = deviceFromTopic(message.topic);
      if (!source) {
        reject(message, null, 'unknown_topic', `not a telemetry topic: ${message.topic.slice(0, 200)}`);
        continue;
      }
      const { deviceId } = source;
      // 2. device → vehicle
      const found = deps.lookupDevice(deviceId);
      const device = found instanceof Promise ? await found : found;
      if (!device) {
        reject(message, deviceId, 'unknown_device', `no device registered with id ${deviceId}`);
        continue;
      }
      if (!device.active) {
        reject(message, deviceId, 'inactive_device', `device ${deviceId} is deactivated`);
        continue;
      }
      if (device.protocol !== source.protocol) {
        reject(message, deviceId, 'wrong_protocol', `device ${deviceId} is registered for ${device.protocol}, not ${source.protocol}`);
        continue;
      }
      // 3. payload → readings
      const parsed = source.protocol === 'owntracks' ? parseOwnTracksPayload(message.payload) : parseTelemetryPayload(message.payload);
      if (source.subtopic !== undefined) {
        // Beneath the device's topic: the app's events, info, waypoints … carry no position.
        // A location there comes from a phone whose user name holds the device too.
        if (parsed.readings.length > 0) {
          reject(
            message,
            deviceId,
            'unknown_topic',
            `a location on ${message.topic.slice(0, 200)}: OwnTracks locations belong on ${ownTracksTopic(deviceId)}; ` +
              `the app publishes on owntracks/<user name>/<device id>, so set the phone's MQTT user name to ` +
              `"${ownTracksUsername(deviceId)}" and its device id to "${deviceId.split('/')[1]}"`,
          );
        } else {
          const where = `on the sub-topic ${source.subtopic.slice(0, 100)}`;
          for (const r of parsed.rejections) reject(message, deviceId, r.reason, `${where}: ${r.detail}`);
        }
        continue;
      }
      for (const r of parsed.rejections) {
        reject(message, deviceId, r.reason, r.detail, r.raw === null ? message.payload : Buffer.from(r.raw));
      }
      // 4. filters, in order; the first that objects decides
      const single = parsed.readings.length === 1 && parsed.rejections.length === 0;
      const context: FilterContext = { message, settings: deps.settings, previous: undefined };
      for (const reading of parsed.readings) {
        context.previous = newestFix.get(device.vehicleId);
        let objection: Objection | null = null;
        const jumps = rejectedJumps.get(device.vehicleId);
        if (jumps?.includes(reading.fixAtMs)) {
          objection = { reason: 'implausible_jump', detail: `the fix at ${iso(reading.fixAtMs)} was judged a GPS jump when it first came` };
        }
        for (let f = 0; f < filters.length && !objection; f++) objection = filters[f]!(reading, context);
        if (objection?.reason === 'implausible_jump' && !jumps?.includes(reading.fixAtMs)) {
          const list = jumps ?? [];
          list.push(reading.fixAtMs);
          if (list.length > JUMPS_REMEMBERED) list.shift();
          rejectedJumps.set(device.vehicleId, list);
        }
        if (objection) {
          // One reading: keep the payload as it came. One of many: keep that reading alone.
          reject(
            message,
            deviceId,
            objection.reason,
            objection.detail,
            single ? message.payload : Buffer.from(JSON.stringify({ ...reading, ts: iso(reading.fixAtMs) })),
          );
          continue;
        }
        const previous = context.previous;
        if (!previous) newestFix.set(device.vehicleId, { fixAtMs: reading.fixAtMs, lat: reading.lat, lon: reading.lon });
        else if (reading.fixAtMs > previous.fixAtMs) {
          // Updated in place: one object per vehicle, not one per reading.
          previous.fixAtMs = reading.fixAtMs;
          previous.lat = reading.lat;
          previous.lon = reading.lon;
        }
        result.readings.push(bind(reading, deviceId, device, message.receivedAtMs));
      }
    }
    return result;
  }

  return Object.assign(processMessages, {
    /** A batch failed to commit: forget what was learnt, read the committed fixes again. */
    forget(): void {
      newestFix = new Map();
      stale = deps.loadNewestFixes !== undefined;
    },
  });
}
export type Pipeline = ((messages: readonly RawMessage[]) => Promise<PipelineResult>) & { forget?(): void };
