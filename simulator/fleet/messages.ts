/**
 * What the simulation hands out: the MQTT messages its trackers publish (each reading
 * with, for tests, the true state behind it) and the snapshot readings of `step`.
 */
import type { ArmadaPayload, Payload } from '../formats.js';

/** The true state behind one reading. */
export interface ReadingTruth {
  atMs: number;
  lat: number;
  lon: number;
  levelLitres: number;
  speedKmh: number;
  accelMps2: number;
  ignition: boolean;
  badFix: 'null-island' | 'jump' | null;
}

/** One MQTT message: a reading, or a backlog flushed when coverage came back. */
export interface SimMessage {
  /** When the device publishes it (a backlog: when coverage returns). */
  atMs: number;
  deviceId: string;
  topic: string;
  payload: Payload | Payload[];
  readings: number;
  truth?: ReadingTruth[];
}

/** One vehicle's latest state as an Armada reading (`FleetSimulation.step`). */
export interface SimReading {
  deviceId: string;
  payload: ArmadaPayload;
}
