/**
 * What the simulator puts on the wire — Armada JSON, OwnTracks — is what Armada's ingest
 * parsers accept; GPX tracks replay as recorded; the command line says what is wrong
 * with a bad set of options.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOwnTracksPayload } from '../../src/domain/owntracks.js';
import { deviceFromTopic } from '../../src/domain/topics.js';
import { parseTelemetryPayload } from '../../src/domain/telemetry.js';
import { ApiError, createReceiptPoster, type Api } from '../../simulator/api.js';
import { simulatePeriod } from '../../simulator/batch.js';
import type { OwnTracksPayload } from '../../simulator/formats.js';
import { gpxReplay, parseGpx } from '../../simulator/gpx.js';
import { haversineM } from '../../simulator/kupang.js';
import { parseCliOptions, USAGE, UsageError } from '../../simulator/options.js';
import { simulatedFleet } from '../../simulator/sim-fleet.js';
import type { ReceiptRecord } from '../../simulator/truth.js';
import { GPX_FIXTURE } from '../support/fixtures.js';

const MONDAY_MS = Date.parse('2026-11-02T00:00:00+08:00');
const FIXTURE = GPX_FIXTURE;

describe('OwnTracks output', () => {
  const run = simulatePeriod(
    {
      vehicles: simulatedFleet(6, 'owntracks'),
      seed: 4,
      startMs: MONDAY_MS + 6 * 3600_000,
      format: 'owntracks',
      badFixRate: 0,
      offlineRatePerDay: 3,
      readingTruth: true,
    },
    MONDAY_MS + 12 * 3600_000,
  );

  it('publishes location messages one by one on owntracks/{user}/{device}, backlog included', () => {
    expect(run.messages.length).toBeGreaterThan(1000);
    expect(run.messages.some((m) => m.atMs > m.truth![0]!.atMs)).toBe(true);
    for (const m of run.messages) {
      expect(Array.isArray(m.payload)).toBe(false);
      expect(m.topic).toBe(`owntracks/${m.deviceId}`);
      expect(deviceFromTopic(m.topic)).toEqual({ deviceId: m.deviceId, protocol: 'owntracks' });
    }
  });

  it('is accepted by the ingest (parseOwnTracksPayload), with the units OwnTracks uses', () => {
    let accepted = 0;
    for (const m of run.messages) {
      const p = m.payload as OwnTracksPayload;
      const result = parseOwnTracksPayload(Buffer.from(JSON.stringify(p)));
      if (result.rejections.length > 0) throw new Error(`${JSON.stringify(p)}: ${JSON.stringify(result.rejections)}`);
      const reading = result.readings[0]!;
      expect(p._type).toBe('location');
      expect(Number.isInteger(p.tst) && Number.isInteger(p.vel) && Number.isInteger(p.cog) && Number.isInteger(p.acc)).toBe(true);
      expect(reading.fixAtMs).toBe(p.tst * 1000);
      expect(reading.fixAtMs).toBe(m.truth![0]!.atMs);
      expect(reading.speedKmh).toBe(p.vel);
      expect(Math.abs(p.vel - m.truth![0]!.speedKmh)).toBeLessThan(2);
      expect(reading.fuelLitres).toBeNull();
      accepted += 1;
    }
    expect(accepted).toBe(run.messages.length);
  });

  it('refuses a device id that is not user/device', () => {
    expect(() =>
      simulatePeriod({ vehicles: simulatedFleet(1, 'armada'), seed: 1, startMs: MONDAY_MS, format: 'owntracks' }, MONDAY_MS + 1000),
    ).toThrow(/user\/device/);
  });
});

describe('GPX replay', () => {
  const gpx = `<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
    <trkpt lat="-10.1700" lon="123.6000"><ele>20</ele><time>2026-11-02T01:00:00Z</time></trkpt>
    <trkpt lat='-10.1700' lon='123.6010'><time>2026-11-02T01:00:10Z</time></trkpt>
    <trkpt lon="123.6020" lat="-10.1700"><ele>22.5</ele><time>2026-11-02T01:00:20Z</time></trkpt>
  </trkseg></trk></gpx>`;

  it('parses track points in either attribute order and quoting, with optional elevation', () => {
    expect(parseGpx(gpx)).toEqual([
      { lat: -10.17, lon: 123.6, eleM: 20, atMs: Date.parse('2026-11-02T01:00:00Z') },
      { lat: -10.17, lon: 123.601, eleM: null, atMs: Date.parse('2026-11-02T01:00:10Z') },
      { lat: -10.17, lon: 123.602, eleM: 22.5, atMs: Date.parse('2026-11-02T01:00:20Z') },
    ]);
  });

  it('derives speed and heading from the steps, and can shift the track in time', () => {
    const { messages, summary } = gpxReplay(parseGpx(gpx), {
      deviceId: 'gpx-1',
      format: 'armada',
      shiftToMs: Date.parse('2026-11-03T00:00:00Z'),
    });
    const payloads = messages.map((m) => m.payload as { ts: string; speedKmh: number; headingDeg: number });
    expect(payloads.map((p) => p.ts)).toEqual(['2026-11-03T00:00:00.000Z', '2026-11-03T00:00:10.000Z', '2026-11-03T00:00:20.000Z']);
    // 0.001° of longitude at 10° S is 109.5 m: 39.4 km/h over 10 s, due east.
    expect(payloads[1]!.speedKmh).toBeCloseTo(39.4, 0);
    expect(payloads[1]!.headingDeg).toBe(90);
    expect(summary.distanceKm).toBeCloseTo(0.219, 2);
    for (const m of messages) expect(parseTelemetryPayload(Buffer.from(JSON.stringify(m.payload))).rejections).toEqual([]);
  });

  it('names what is wrong with a file it cannot replay', () => {
    expect(() => parseGpx('<gpx></gpx>')).toThrow(/no track points/);
    expect(() => parseGpx('<trkpt lat="1" lon="2"></trkpt>')).toThrow(/point 1 has no valid <time>/);
    expect(() => parseGpx('<trkpt lat="x" lon="2"><time>2026-01-01T00:00:00Z</time></trkpt>')).toThrow(/point 1 has no valid lat\/lon/);
  });

  it('replays the recorded car drive (tests/fixtures) as recorded', () => {
    const points = parseGpx(readFileSync(FIXTURE, 'utf8'));
    expect(points).toHaveLength(104);
    const { messages, summary } = gpxReplay(points, { deviceId: 'sim/gpx', format: 'owntracks' });
    expect(summary.startAt).toBe('2020-12-18T06:15:50.000Z');
    expect(summary.endAt).toBe('2020-12-18T06:24:24.000Z');
    let pathM = 0;
    for (let i = 1; i < points.length; i++) pathM += haversineM(points[i - 1]!, points[i]!);
    expect(summary.distanceKm).toBeCloseTo(pathM / 1000, 3);
    expect(summary.distanceKm).toBeGreaterThan(2);
    expect(summary.distanceKm).toBeLessThan(4);
    // The README's "one stop of about two minutes" (the drive also ends standing).
    const midway = summary.stops.filter((s) => s.endAt < summary.endAt);
    expect(midway).toHaveLength(1);
    expect(midway[0]!.durationS).toBeGreaterThan(90);
    expect(midway[0]!.durationS).toBeLessThan(150);
    for (const m of messages) expect(parseOwnTracksPayload(Buffer.from(JSON.stringify(m.payload))).rejections).toEqual([]);
  });
});

describe('command-line options', () => {
  const parse = (args: string) => parseCliOptions(args.split(' ').filter(Boolean), {});
  const fails = (args: string, message: RegExp) => {
    expect(() => parse(args)).toThrow(UsageError);
    expect(() => parse(args)).toThrow(message);
  };

  it('documents every option in --help', () => {
    expect(parse('--help')).toBeNull();
    for (const option of [
      '--vehicles',
      '--seed',
      '--interval',
      '--from',
      '--to',
      '--speedup',
      '--mqtt',
      '--out',
      '--truth',
      '--format',
      '--api',
      '--api-key',
      '--load-rate',
      '--duration',
      '--replay',
      '--schedule',
      '--sensor-noise',
      '--drain-rate',
      '--fraud-inflated',
      '--bad-fix-rate',
    ]) {
      expect(USAGE).toContain(option);
    }
  });

  it('chooses the mode from the options', () => {
    expect(parse('--out x.jsonl')!.mode).toBe('live');
    expect(parse('--out x.jsonl')!.schedule).toBe('always');
    const batch = parse('--from 2026-11-01T00:00:00+08:00 --to 2026-11-02 --out x.jsonl')!;
    expect(batch.mode).toBe('batch');
    expect(batch.schedule).toBe('realistic');
    expect(batch.fromMs).toBe(Date.parse('2026-10-31T16:00:00Z'));
    // A date alone is midnight in Kupang.
    expect(batch.toMs).toBe(Date.parse('2026-11-01T16:00:00Z'));
    expect(parse('--mqtt mqtt://h:1883 --load-rate 100 --duration 5')!.mode).toBe('load');
    expect(parse('--replay t.gpx --from 2026-11-01T00:00:00Z --out x.jsonl')!.mode).toBe('replay');
  });

  it('says what is wrong', () => {
    fails('--from 2026-11-01T00:00:00Z --to 2026-11-02T00:00:00Z', /where readings go/);
    fails('--from 2026-11-01T00:00:00Z --out x', /needs both --from and --to/);
    fails('--from 2026-11-02T00:00:00Z --to 2026-11-01T00:00:00Z --out x', /after --from/);
    fails('--from 2026-11-01T00:00:00 --to 2026-11-02T00:00:00Z --out x', /time zone/);
    fails('--out x --format gpx', /armada or owntracks/);
    fails('--out x --vehicles 0', /--vehicles must be a whole number/);
    fails('--out x --interval 2.5', /--interval must be a whole number of seconds/);
    fails('--mqtt mqtt://h --load-rate 100', /needs --duration/);
    fails('--mqtt mqtt://h --load-rate 100 --duration 5 --from 2026-11-01T00:00:00Z --to 2026-11-02T00:00:00Z', /choose one mode/);
    fails('--api http://localhost:3000 --out x', /--api needs --api-key/);
    fails('--out x --bad-fix-rate 2', /fraction/);
    fails('--out x --frobnicate', /frobnicate/);
  });

  it('takes the API key from the environment, and the broker from MQTT_URL with --api', () => {
    const o = parseCliOptions(['--api', 'http://127.0.0.1:3000/'], { ARMADA_API_KEY: 'k', MQTT_URL: 'mqtt://b:1884' })!;
    expect(o.apiUrl).toBe('http://127.0.0.1:3000');
    expect(o.apiKey).toBe('k');
    expect(o.mqttUrl).toBe('mqtt://b:1884');
    expect(parseCliOptions(['--vehicles', '3'], { MQTT_URL: 'mqtt://b:1884' })!.mqttUrl).toBe('mqtt://b:1884');
    // Readings meant for a file do not also go to whatever broker the environment names.
    expect(parseCliOptions(['--out', 'x.jsonl'], { MQTT_URL: 'mqtt://b:1884' })!.mqttUrl).toBeUndefined();
  });
});

describe('receipts to the API', () => {
  const receipt = (n: number): ReceiptRecord => ({
    type: 'receipt',
    deviceId: 'sim-0001',
    plateNumber: 'SIM 0001',
    at: '2026-11-02T01:00:00.000Z',
    litres: 30 + n,
    amountIdr: (30 + n) * 10_000,
    fuelType: 'pertalite',
    priceIdrPerLitre: 10_000,
    station: 'SPBU Pertamina Naikoten',
    stationCode: '54.851.02',
    lat: -10.169,
    lon: 123.596,
    receiptNo: `54.851.02-202611020900-000${n}`,
    fraud: n === 2 ? 'inflated' : null,
    filledLitres: 30,
    refuelEndAt: '2026-11-02T00:58:00.000Z',
  });

  it("posts the purchase as the ledger takes it, with Armada's vehicle id and nothing of the truth", async () => {
    const bodies: unknown[] = [];
    const api: Api = async <T>(_method: string, path: string, body?: unknown) => {
      expect(path).toBe('/fuel-purchases');
      bodies.push(body);
      return { id: 'p1' } as T;
    };
    const poster = createReceiptPoster(api, new Map([['sim-0001', 'vehicle-uuid']]), () => {});
    await poster.post(receipt(2));
    await poster.post({ ...receipt(3), deviceId: 'not-registered' });
    expect(bodies).toEqual([
      {
        vehicleId: 'vehicle-uuid',
        at: '2026-11-02T01:00:00.000Z',
        litres: 32,
        amountIdr: 320_000,
        fuelType: 'pertalite',
        station: '54.851.02',
        lat: -10.169,
        lon: 123.596,
        receiptNo: '54.851.02-202611020900-0002',
      },
    ]);
    expect(poster.summary()).toEqual({ posted: 1, failed: 0, available: true });
  });

  it('says once that a server without the receipts endpoint skips them, and stops asking', async () => {
    let calls = 0;
    const warnings: string[] = [];
    const api: Api = async () => {
      calls += 1;
      throw new ApiError(404, 'not_found', 'POST /fuel-purchases answered 404: Route not found');
    };
    const poster = createReceiptPoster(api, new Map([['sim-0001', 'vehicle-uuid']]), (line) => warnings.push(line));
    for (let n = 0; n < 3; n++) await poster.post(receipt(n));
    expect(calls).toBe(1);
    expect(warnings).toEqual([
      'simulate: warning: receipts endpoint not available on this server (POST /api/v1/fuel-purchases answered 404); receipts skipped',
    ]);
    expect(poster.summary().available).toBe(false);
  });
});
