import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseTelemetryPayload, rejectReasons } from '../../src/domain/telemetry.js';
import { deviceIdFromTelemetryTopic, liveTopic, telemetryTopic } from '../../src/domain/topics.js';

const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

const full = {
  ts: '2026-11-27T01:02:03.000Z',
  lat: -10.170167,
  lon: 123.60775,
  speedKmh: 42.5,
  headingDeg: 270,
  altitudeM: 35,
  satellites: 9,
  hdop: 0.9,
  ignition: true,
  odometerKm: 12345.6,
  fuelLitres: 38.2,
  fuelPercent: 63.5,
  fuelUsedLitres: 1234.5,
  batteryV: 12.6,
  seq: 1234,
};

describe('parseTelemetryPayload', () => {
  it('reads the contract example with every field', () => {
    const { readings, rejections } = parseTelemetryPayload(bytes(full));
    expect(rejections).toEqual([]);
    expect(readings).toEqual([
      {
        fixAtMs: Date.parse(full.ts),
        lat: full.lat,
        lon: full.lon,
        speedKmh: 42.5,
        headingDeg: 270,
        altitudeM: 35,
        satellites: 9,
        hdop: 0.9,
        ignition: true,
        odometerKm: 12345.6,
        fuelLitres: 38.2,
        fuelPercent: 63.5,
        fuelUsedLitres: 1234.5,
        batteryV: 12.6,
        seq: 1234,
        attributes: null,
      },
    ]);
  });

  it('needs only ts, lat and lon; ts may be epoch milliseconds', () => {
    const { readings } = parseTelemetryPayload(bytes({ ts: 1795827600000, lat: -10.1, lon: 123.6 }));
    expect(readings[0]).toMatchObject({ fixAtMs: 1795827600000, speedKmh: null, fuelLitres: null, ignition: null });
  });

  it('keeps unknown fields as attributes', () => {
    const { readings } = parseTelemetryPayload(bytes({ ...full, rssi: -71, door: 'open' }));
    expect(readings[0]!.attributes).toEqual({ rssi: -71, door: 'open' });
  });

  it('accepts an array: good elements kept, bad ones rejected one by one', () => {
    const { readings, rejections } = parseTelemetryPayload(
      bytes([full, { ts: full.ts, lon: 123.6 }, { ...full, ts: '2026-11-27T01:02:04Z' }]),
    );
    expect(readings).toHaveLength(2);
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ reason: 'missing_field' });
    expect(rejections[0]!.detail).toContain('element 1');
    expect(rejections[0]!.detail).toContain('lat');
    expect(JSON.parse(rejections[0]!.raw!)).toEqual({ ts: full.ts, lon: 123.6 });
  });

  it.each([
    ['not JSON', '{"ts": ', 'not_json'],
    ['a JSON string', '"hello"', 'not_an_object'],
    ['null', 'null', 'not_an_object'],
    ['an empty array', '[]', 'empty_batch'],
    ['missing lat', JSON.stringify({ ts: full.ts, lon: 1 }), 'missing_field'],
    ['latitude 91', JSON.stringify({ ...full, lat: 91 }), 'invalid_coordinates'],
    ['longitude as text', JSON.stringify({ ...full, lon: '123.6' }), 'invalid_coordinates'],
    ['a negative speed', JSON.stringify({ ...full, speedKmh: -5 }), 'invalid_field'],
    ['a timestamp that is not ISO', JSON.stringify({ ...full, ts: 'yesterday' }), 'invalid_field'],
    ['epoch seconds instead of ms', JSON.stringify({ ...full, ts: 1795827600 }), 'invalid_field'],
    ['a fuel percentage over 100', JSON.stringify({ ...full, fuelPercent: 130 }), 'invalid_field'],
  ])('rejects %s', (_label, payload, reason) => {
    const { readings, rejections } = parseTelemetryPayload(bytes(payload));
    expect(readings).toEqual([]);
    expect(rejections).toHaveLength(1);
    expect(rejections[0]!.reason).toBe(reason);
    expect(rejections[0]!.detail.length).toBeGreaterThan(0);
  });

  it('treats null optional fields as absent', () => {
    const { readings } = parseTelemetryPayload(bytes({ ...full, fuelLitres: null, ignition: null }));
    expect(readings[0]).toMatchObject({ fuelLitres: null, ignition: null });
  });

  it('refuses an oversized payload without decoding it', () => {
    const { rejections } = parseTelemetryPayload(Buffer.alloc(300 * 1024, 0x20));
    expect(rejections[0]!.reason).toBe('payload_too_large');
  });

  it('never throws, and always answers a reading or a known reason (random bytes)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (data) => {
        const { readings, rejections } = parseTelemetryPayload(data);
        expect(readings.length + rejections.length).toBeGreaterThan(0);
        for (const r of rejections) expect(rejectReasons).toContain(r.reason);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const { readings, rejections } = parseTelemetryPayload(bytes(JSON.stringify(value)));
        expect(readings.length + rejections.length).toBeGreaterThan(0);
        for (const r of readings) {
          expect(Number.isFinite(r.fixAtMs)).toBe(true);
          expect(Math.abs(r.lat)).toBeLessThanOrEqual(90);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('topics', () => {
  it('builds and parses the telemetry topic', () => {
    expect(telemetryTopic('dh-1234-ab')).toBe('fleet/v1/devices/dh-1234-ab/telemetry');
    expect(deviceIdFromTelemetryTopic('fleet/v1/devices/dh-1234-ab/telemetry')).toBe('dh-1234-ab');
    expect(liveTopic('d', 'v')).toBe('fleet/v1/live/d/v');
  });

  it.each(['fleet/v1/devices/x/other', 'fleet/v2/devices/x/telemetry', 'fleet/v1/devices//telemetry', 'fleet/v1/devices/a b/telemetry', 'owntracks/u/d'])(
    'finds no device id in %s',
    (topic) => expect(deviceIdFromTelemetryTopic(topic)).toBeNull(),
  );
});
