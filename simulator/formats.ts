/**
 * How a reading goes on the wire: Armada's own JSON (docs/mqtt.md) on
 * `fleet/v1/devices/{deviceId}/telemetry`, or an OwnTracks location message on
 * `owntracks/{user}/{device}` (device id `user/device`; tst in epoch seconds, vel in
 * km/h; OwnTracks carries no fuel).
 */

export type OutputFormat = 'armada' | 'owntracks';

/** What a tracker knows at one instant, before it is encoded. */
export interface Fix {
  atMs: number;
  lat: number;
  lon: number;
  speedKmh: number;
  headingDeg: number;
  altitudeM: number;
  satellites: number;
  hdop: number;
  /** Horizontal accuracy the receiver claims, metres (OwnTracks `acc`). */
  accuracyM: number;
  ignition: boolean;
  odometerKm: number;
  fuelLitres?: number;
  fuelPercent?: number;
  fuelUsedLitres?: number;
  batteryV: number;
  /** The phone's battery, percent (OwnTracks `batt`). */
  phoneBatteryPercent: number;
  seq: number;
}

export interface ArmadaPayload {
  ts: string;
  lat: number;
  lon: number;
  speedKmh: number;
  headingDeg: number;
  altitudeM: number;
  satellites: number;
  hdop: number;
  ignition: boolean;
  odometerKm: number;
  fuelLitres?: number;
  fuelPercent?: number;
  fuelUsedLitres?: number;
  batteryV: number;
  seq: number;
}

export interface OwnTracksPayload {
  _type: 'location';
  tid: string;
  tst: number;
  lat: number;
  lon: number;
  vel: number;
  cog: number;
  alt: number;
  acc: number;
  batt: number;
  conn: 'm';
  t: 't';
}

export type Payload = ArmadaPayload | OwnTracksPayload;

const OWNTRACKS_ID = /^[A-Za-z0-9_.:-]{1,64}\/[A-Za-z0-9_.:-]{1,64}$/;

export function topicFor(format: OutputFormat, deviceId: string): string {
  if (format === 'armada') return `fleet/v1/devices/${deviceId}/telemetry`;
  if (!OWNTRACKS_ID.test(deviceId)) throw new Error(`an OwnTracks device id is "user/device", got "${deviceId}"`);
  return `owntracks/${deviceId}`;
}

/** OwnTracks' tracker id: two characters shown on the phone's map. */
export function ownTracksTid(deviceId: string): string {
  const device = deviceId.split('/').pop() ?? deviceId;
  const alnum = device.replace(/[^A-Za-z0-9]/g, '');
  return (alnum.slice(-2) || 'xx').toUpperCase();
}

export function encodeFix(format: OutputFormat, deviceId: string, fix: Fix): Payload {
  if (format === 'owntracks') {
    return {
      _type: 'location',
      tid: ownTracksTid(deviceId),
      tst: Math.round(fix.atMs / 1000),
      lat: fix.lat,
      lon: fix.lon,
      vel: Math.round(fix.speedKmh),
      cog: Math.round(fix.headingDeg) % 360,
      alt: Math.round(fix.altitudeM),
      acc: Math.round(fix.accuracyM),
      batt: fix.phoneBatteryPercent,
      conn: 'm',
      t: 't',
    };
  }
  // Built in the order of the contract's example, fuel fields before battery and seq.
  const payload = {
    ts: new Date(fix.atMs).toISOString(),
    lat: fix.lat,
    lon: fix.lon,
    speedKmh: fix.speedKmh,
    headingDeg: fix.headingDeg,
    altitudeM: fix.altitudeM,
    satellites: fix.satellites,
    hdop: fix.hdop,
    ignition: fix.ignition,
    odometerKm: fix.odometerKm,
  } as ArmadaPayload;
  if (fix.fuelLitres !== undefined) payload.fuelLitres = fix.fuelLitres;
  if (fix.fuelPercent !== undefined) payload.fuelPercent = fix.fuelPercent;
  if (fix.fuelUsedLitres !== undefined) payload.fuelUsedLitres = fix.fuelUsedLitres;
  payload.batteryV = fix.batteryV;
  payload.seq = fix.seq;
  return payload;
}

/** Keeps a flushed array well under the ingest limits (256 KiB, 5000 readings). */
export const FLUSH_CHUNK_READINGS = 500;

/**
 * A backlog as messages: Armada trackers send JSON arrays; the OwnTracks app sends its
 * queued locations one by one.
 */
export function backlogPayloads(format: OutputFormat, payloads: Payload[]): Array<Payload | Payload[]> {
  if (format === 'owntracks') return payloads;
  const out: Payload[][] = [];
  for (let i = 0; i < payloads.length; i += FLUSH_CHUNK_READINGS) out.push(payloads.slice(i, i + FLUSH_CHUNK_READINGS));
  return out;
}
