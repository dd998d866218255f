/**
 * What the broker, the ingest pipeline and worker, the alert engine and the repositories
 * hand each other: a device as ingest knows it, a reading bound to its vehicle, and a
 * rejected message on its way to the quarantine. Plain data, no behaviour.
 */
import type { Reading, RejectReason } from './telemetry.js';
import type { TopicProtocol } from './topics.js';

/** What the broker and the ingest worker need to know about a device. */
export interface DeviceIdentity {
  id: string;
  vehicleId: string;
  departmentId: string;
  protocol: TopicProtocol;
  secretHash: string;
  active: boolean;
}

/** A reading bound to the device and vehicle that sent it. */
export interface BoundReading extends Reading {
  deviceId: string;
  vehicleId: string;
  departmentId: string;
  receivedAtMs: number;
}

/** A message (or one reading of it) that is not stored, with why; the quarantine keeps it. */
export interface QuarantineEntry {
  receivedAtMs: number;
  topic: string;
  deviceId: string | null;
  reason: RejectReason;
  detail: string;
  payload: Buffer;
}
