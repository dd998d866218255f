/**
 * The ingest pipeline: an ordered list of named steps from a raw MQTT message to
 * readings bound to a vehicle, or to rejections with a reason (in the manner of
 * Traccar's ProcessingHandler and FilterHandler). Pure apart from the device lookup;
 * the worker commits what it returns.
 */
import { deviceIdFromTelemetryTopic } from '../domain/topics.js';
import { parseTelemetryPayload, type Reading, type RejectReason } from '../domain/telemetry.js';
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
}

export type DeviceLookup = (deviceId: string) => Promise<DeviceIdentity | undefined>;

/** A reading filter: null to keep it, or why it must not be stored. */
type ReadingFilter = (reading: Reading, message: RawMessage, settings: PipelineSettings) => { reason: RejectReason; detail: string } | null;

const readingFilters: ReadonlyArray<readonly [string, ReadingFilter]> = [
  [
    'nullIsland',
    (r) => (r.lat === 0 && r.lon === 0 ? { reason: 'null_island', detail: 'lat 0, lon 0: the receiver had no fix' } : null),
  ],
  [
    'futureTimestamp',
    (r, m, s) => {
      const aheadS = (r.fixAtMs - m.receivedAtMs) / 1000;
      return aheadS > s.maxFutureS
        ? { reason: 'future_timestamp', detail: `fix time ${new Date(r.fixAtMs).toISOString()} is ${Math.round(aheadS)} s ahead of the receive time (limit ${s.maxFutureS} s)` }
        : null;
    },
  ],
];

export function createPipeline(deps: { lookupDevice: DeviceLookup; settings: PipelineSettings }) {
  return async function processMessages(messages: readonly RawMessage[]): Promise<PipelineResult> {
    const result: PipelineResult = { readings: [], rejected: [] };
    const reject = (m: RawMessage, deviceId: string | null, reason: RejectReason, detail: string, payload = m.payload) =>
      result.rejected.push({ receivedAtMs: m.receivedAtMs, topic: m.topic, deviceId, reason, detail, payload });

    for (const message of messages) {
      // 1. topic → device id
      const deviceId = deviceIdFromTelemetryTopic(message.topic);
      if (!deviceId) {
        reject(message, null, 'unknown_topic', `not a telemetry topic: ${message.topic.slice(0, 200)}`);
        continue;
      }
      // 2. device → vehicle
      const device = await deps.lookupDevice(deviceId);
      if (!device) {
        reject(message, deviceId, 'unknown_device', `no device registered with id ${deviceId}`);
        continue;
      }
      if (!device.active) {
        reject(message, deviceId, 'inactive_device', `device ${deviceId} is deactivated`);
        continue;
      }
      // 3. payload → readings
      const parsed = parseTelemetryPayload(message.payload);
      for (const r of parsed.rejections) {
        reject(message, deviceId, r.reason, r.detail, r.raw === null ? message.payload : Buffer.from(r.raw));
      }
      // 4. filters, in order; the first that objects decides
      for (const reading of parsed.readings) {
        let objection: { reason: RejectReason; detail: string } | null = null;
        for (const [, filter] of readingFilters) {
          objection = filter(reading, message, deps.settings);
          if (objection) break;
        }
        if (objection) {
          // One reading: keep the payload as it came. One of many: keep that reading alone.
          const raw = parsed.readings.length === 1 && parsed.rejections.length === 0 ? message.payload : Buffer.from(JSON.stringify(reading));
          reject(message, deviceId, objection.reason, objection.detail, raw);
          continue;
        }
        result.readings.push({
          ...reading,
          deviceId,
          vehicleId: device.vehicleId,
          departmentId: device.departmentId,
          receivedAtMs: message.receivedAtMs,
        });
      }
    }
    return result;
  };
}
export type Pipeline = ReturnType<typeof createPipeline>;
