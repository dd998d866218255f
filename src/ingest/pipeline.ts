/**
 * The ingest pipeline: an ordered list of named steps from a raw MQTT message to a
 * stored reading, or to a rejection with a reason (in the manner of Traccar's handler
 * pipeline and its FilterHandler). Each step either passes the message on or says why
 * it stops here, and that reason goes to the quarantine with the payload:
 *
 *   1. resolveTopic   topic → device id and protocol   (unknown_topic)
 *   2. resolveDevice  device id → vehicle              (unknown_device, inactive_device, wrong_protocol)
 *   3. parse          payload → readings               (not_json, missing_field, invalid_field, …)
 *   4. filter         each reading, filters in order   (null_island, future_timestamp, beyond_retention, too_old, implausible_jump)
 *   5. store          the worker's commit (./worker.ts): readings and rejections in one
 *                     statement, then the acknowledgements
 *
 * Steps 1 to 4 are here and run batch after batch in order; the worker commits what they
 * return. Apart from the device lookup they are pure, but for the jump filter's memory
 * of each vehicle's newest fix (./jump-memory.ts), which the worker has dropped after a
 * failed commit (`forget`).
 */
import { haversineM } from '../domain/geo.js';
import { parseOwnTracksPayload } from '../domain/owntracks.js';
import { beyondRetention } from '../domain/retention.js';
import { parseTelemetryPayload, type Reading, type RejectReason } from '../domain/telemetry.js';
import { deviceFromTopic, ownTracksTopic, ownTracksUsername, type TopicProtocol } from '../domain/topics.js';
import type { BoundReading, DeviceIdentity, QuarantineEntry } from '../domain/ingest-types.js';
import { createJumpMemory, type Fix, type NewestFixLoader } from './jump-memory.js';

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

const readingFilters: ReadonlyArray<readonly [string, ReadingFilter]> = [
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

/** Where a step stops a message (or one reading): the quarantine's reason and detail. */
type Stop = Objection;
type Source = NonNullable<ReturnType<typeof deviceFromTopic>>;

/** 1. The telemetry topic names the device and its protocol. */
function resolveTopic(message: RawMessage): Source | Stop {
  return deviceFromTopic(message.topic) ?? { reason: 'unknown_topic', detail: `not a telemetry topic: ${message.topic.slice(0, 200)}` };
}

/** 2. The device as looked up: it must be registered, active, and registered for the protocol it speaks. */
function resolveDevice(deviceId: string, protocol: TopicProtocol, device: DeviceIdentity | undefined): Stop | null {
  if (!device) return { reason: 'unknown_device', detail: `no device registered with id ${deviceId}` };
  if (!device.active) return { reason: 'inactive_device', detail: `device ${deviceId} is deactivated` };
  if (device.protocol !== protocol) {
    return { reason: 'wrong_protocol', detail: `device ${deviceId} is registered for ${device.protocol}, not ${protocol}` };
  }
  return null;
}

/** 3. The payload as readings and rejections, by the device's protocol. */
function parse(message: RawMessage, source: Source) {
  return source.protocol === 'owntracks' ? parseOwnTracksPayload(message.payload) : parseTelemetryPayload(message.payload);
}

/**
 * 3, beneath an OwnTracks device's topic: the app's events, info, waypoints … carry no
 * position; a location there comes from a phone whose user name holds the device too.
 */
function subtopicStops(message: RawMessage, source: Source & { subtopic: string }, parsed: ReturnType<typeof parse>): Stop[] {
  const { deviceId } = source;
  if (parsed.readings.length > 0) {
    return [
      {
        reason: 'unknown_topic',
        detail:
          `a location on ${message.topic.slice(0, 200)}: OwnTracks locations belong on ${ownTracksTopic(deviceId)}; ` +
          `the app publishes on owntracks/<user name>/<device id>, so set the phone's MQTT user name to ` +
          `"${ownTracksUsername(deviceId)}" and its device id to "${deviceId.split('/')[1]}"`,
      },
    ];
  }
  const where = `on the sub-topic ${source.subtopic.slice(0, 100)}`;
  return parsed.rejections.map((r) => ({ reason: r.reason, detail: `${where}: ${r.detail}` }));
}

export function createPipeline(deps: { lookupDevice: DeviceLookup; settings: PipelineSettings; loadNewestFixes?: NewestFixLoader }) {
  const memory = createJumpMemory(deps.loadNewestFixes);

  /** 4. The filters in order, the first that objects decides; a reading that passes moves the vehicle's newest fix. */
  function filter(reading: Reading, vehicleId: string, context: FilterContext): Objection | null {
    context.previous = memory.newest(vehicleId);
    let objection: Objection | null = memory.wasJump(vehicleId, reading.fixAtMs)
      ? { reason: 'implausible_jump', detail: `the fix at ${iso(reading.fixAtMs)} was judged a GPS jump when it first came` }
      : null;
    for (let f = 0; f < filters.length && !objection; f++) objection = filters[f]!(reading, context);
    if (objection?.reason === 'implausible_jump') memory.rememberJump(vehicleId, reading.fixAtMs);
    else if (!objection) memory.accept(vehicleId, reading);
    return objection;
  }

  async function processMessages(messages: readonly RawMessage[]): Promise<PipelineResult> {
    await memory.ready();
    const result: PipelineResult = { readings: [], rejected: [] };
    const reject = (m: RawMessage, deviceId: string | null, stop: Stop, payload = m.payload) =>
      result.rejected.push({ receivedAtMs: m.receivedAtMs, topic: m.topic, deviceId, reason: stop.reason, detail: stop.detail, payload });

    for (const message of messages) {
      const source = resolveTopic(message);
      if ('reason' in source) {
        reject(message, null, source);
        continue;
      }
      const { deviceId } = source;
      const found = deps.lookupDevice(deviceId);
      const device = found instanceof Promise ? await found : found;
      const refused = resolveDevice(deviceId, source.protocol, device);
      if (refused || !device) {
        reject(message, deviceId, refused!);
        continue;
      }
      const parsed = parse(message, source);
      if (source.subtopic !== undefined) {
        for (const stop of subtopicStops(message, { ...source, subtopic: source.subtopic }, parsed)) reject(message, deviceId, stop);
        continue;
      }
      for (const r of parsed.rejections) reject(message, deviceId, r, r.raw === null ? message.payload : Buffer.from(r.raw));
      const single = parsed.readings.length === 1 && parsed.rejections.length === 0;
      const context: FilterContext = { message, settings: deps.settings, previous: undefined };
      for (const reading of parsed.readings) {
        const objection = filter(reading, device.vehicleId, context);
        if (objection) {
          // One reading: keep the payload as it came. One of many: keep that reading alone.
          reject(
            message,
            deviceId,
            objection,
            single ? message.payload : Buffer.from(JSON.stringify({ ...reading, ts: iso(reading.fixAtMs) })),
          );
          continue;
        }
        result.readings.push(bind(reading, deviceId, device, message.receivedAtMs));
      }
    }
    return result;
  }

  return Object.assign(processMessages, {
    /** A batch failed to commit: forget what was learnt, read the committed fixes again. */
    forget: () => memory.forget(),
  });
}
export type Pipeline = ((messages: readonly RawMessage[]) => Promise<PipelineResult>) & { forget?(): void };
