/**
 * Replays a recorded GPX track as one device: each track point becomes a reading at its
 * recorded time (optionally shifted), with the speed and heading derived from the step
 * to the previous point, since GPX 1.1 track points carry none. A small string parser
 * is enough for `<trkpt lat=".." lon=".."><ele>..</ele><time>..</time></trkpt>`; it
 * needs no XML library.
 */
import { encodeFix, topicFor, type Fix, type OutputFormat } from './formats.js';
import { bearingDeg, haversineM, type LatLon } from './kupang.js';
import type { SimMessage } from './fleet/index.js';

export interface GpxPoint extends LatLon {
  eleM: number | null;
  atMs: number;
}

function attribute(tag: string, name: string): string | undefined {
  return new RegExp(`\\b${name}\\s*=\\s*(["'])([^"']*)\\1`).exec(tag)?.[2];
}

function element(body: string, name: string): string | undefined {
  return new RegExp(`<(?:\\w+:)?${name}\\b[^>]*>([^<]*)</(?:\\w+:)?${name}>`).exec(body)?.[1]?.trim();
}

/** The track points of every track and segment, in document order. Throws naming the first bad point. */
export function parseGpx(text: string): GpxPoint[] {
  const points: GpxPoint[] = [];
  const pattern = /<(?:\w+:)?trkpt\b([^>]*?)(\/>|>([\s\S]*?)<\/(?:\w+:)?trkpt>)/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    const n = points.length + 1;
    const attrs = match[1] ?? '';
    const body = match[3] ?? '';
    const lat = Number(attribute(attrs, 'lat'));
    const lon = Number(attribute(attrs, 'lon'));
    if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180)
      throw new Error(`GPX track point ${n} has no valid lat/lon`);
    const timeText = element(body, 'time');
    const atMs = timeText === undefined ? NaN : Date.parse(timeText);
    if (!Number.isFinite(atMs)) throw new Error(`GPX track point ${n} has no valid <time>; a replay needs the recorded times`);
    const eleText = element(body, 'ele');
    const ele = eleText === undefined ? NaN : Number(eleText);
    points.push({ lat, lon, eleM: Number.isFinite(ele) ? ele : null, atMs });
  }
  if (points.length === 0) throw new Error('the GPX file has no track points (<trkpt>)');
  for (let i = 1; i < points.length; i++) {
    if (points[i]!.atMs < points[i - 1]!.atMs) throw new Error(`GPX track point ${i + 1} is earlier than the one before it`);
  }
  return points;
}

export interface ReplaySummary {
  type: 'replay';
  deviceId: string;
  points: number;
  startAt: string;
  endAt: string;
  durationS: number;
  /** Along the recorded points (great circle between consecutive points). */
  distanceKm: number;
  /** Standstills of a minute or more: consecutive points less than 1 km/h apart. */
  stops: Array<{ startAt: string; endAt: string; durationS: number; lat: number; lon: number }>;
}

const STANDSTILL_KMH = 1;
const MIN_STOP_S = 60;

/**
 * The replay's messages (one reading each, duplicate times dropped) and its summary.
 * `shiftToMs` moves the whole track so that its first point is at that time.
 */
export function gpxReplay(
  points: GpxPoint[],
  opts: { deviceId: string; format: OutputFormat; shiftToMs?: number },
): { messages: SimMessage[]; summary: ReplaySummary } {
  const shiftMs = opts.shiftToMs === undefined ? 0 : opts.shiftToMs - points[0]!.atMs;
  const topic = topicFor(opts.format, opts.deviceId);
  const messages: SimMessage[] = [];
  const stops: ReplaySummary['stops'] = [];
  let distanceM = 0;
  let headingDeg = 0;
  let standStart: GpxPoint | null = null;
  let previous: GpxPoint | null = null;
  const iso = (ms: number) => new Date(ms + shiftMs).toISOString();
  const closeStand = (until: GpxPoint) => {
    if (standStart && (until.atMs - standStart.atMs) / 1000 >= MIN_STOP_S) {
      stops.push({
        startAt: iso(standStart.atMs),
        endAt: iso(until.atMs),
        durationS: (until.atMs - standStart.atMs) / 1000,
        lat: standStart.lat,
        lon: standStart.lon,
      });
    }
    standStart = null;
  };
  for (const p of points) {
    let speedKmh = 0;
    if (previous) {
      const stepM = haversineM(previous, p);
      const dtS = (p.atMs - previous.atMs) / 1000;
      if (dtS <= 0) continue;
      distanceM += stepM;
      speedKmh = (stepM / dtS) * 3.6;
      if (stepM > 1) headingDeg = bearingDeg(previous, p);
      if (speedKmh < STANDSTILL_KMH) standStart ??= previous;
      else closeStand(previous);
    }
    const fix: Fix = {
      atMs: p.atMs + shiftMs,
      lat: p.lat,
      lon: p.lon,
      speedKmh: Math.round(speedKmh * 10) / 10,
      headingDeg: Math.round(headingDeg) % 360,
      altitudeM: p.eleM === null ? 0 : Math.round(p.eleM * 10) / 10,
      satellites: 9,
      hdop: 1,
      accuracyM: 5,
      ignition: true,
      odometerKm: Math.round(distanceM) / 1000,
      batteryV: 14,
      phoneBatteryPercent: 100,
      seq: messages.length + 1,
    };
    const payload = encodeFix(opts.format, opts.deviceId, fix);
    if (opts.format === 'armada' && p.eleM === null) delete (payload as { altitudeM?: number }).altitudeM;
    messages.push({ atMs: fix.atMs, deviceId: opts.deviceId, topic, payload, readings: 1 });
    previous = p;
  }
  if (previous) closeStand(previous);
  const first = points[0]!;
  const last = previous ?? first;
  return {
    messages,
    summary: {
      type: 'replay',
      deviceId: opts.deviceId,
      points: messages.length,
      startAt: iso(first.atMs),
      endAt: iso(last.atMs),
      durationS: (last.atMs - first.atMs) / 1000,
      distanceKm: Math.round(distanceM) / 1000,
      stops,
    },
  };
}
