import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_JSON_DEPTH, parseTelemetryPayload, parseWithSchema, quickReadingForTests, rejectReasons } from '../../src/domain/telemetry.js';
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

describe('poison payloads', () => {
  const reading = { ts: '2026-11-27T01:02:03.000Z', lat: -10.17, lon: 123.6 };

  it('rejects an element nested 5,000 deep (about 10 KB) without overflowing the stack', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const payload = bytes(`[${JSON.stringify(reading)},${deep}]`);
    expect(payload.byteLength).toBeGreaterThan(10_000);
    const { readings, rejections } = parseTelemetryPayload(payload);
    expect(readings).toEqual([]);
    expect(rejections).toEqual([
      { reason: 'too_deeply_nested', detail: 'arrays and objects nested 5001 deep; the limit is 32', raw: null },
    ]);
  });

  it('takes attributes nested up to the limit, and counts no brackets inside strings', () => {
    let nested: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH - 2; i++) nested = { n: nested };
    const { readings, rejections } = parseTelemetryPayload(bytes([{ ...reading, nested, note: `[[[[{{{{"\\${'['.repeat(100)}` }]));
    expect(rejections).toEqual([]);
    expect(readings).toHaveLength(1);
    nested = { n: nested };
    expect(parseTelemetryPayload(bytes([{ ...reading, nested }])).rejections[0]!.reason).toBe('too_deeply_nested');
  });

  it('rejects the element whose string holds U+0000, and keeps the others', () => {
    const payload = bytes([reading, { ...reading, lat: -10.2, driver: 'Ana\u0000' }, { ...reading, lat: -10.3 }]);
    const { readings, rejections } = parseTelemetryPayload(payload);
    expect(readings.map((r) => r.lat)).toEqual([-10.17, -10.3]);
    expect(rejections).toHaveLength(1);
    expect(rejections[0]!.reason).toBe('nul_character');
    expect(rejections[0]!.detail).toBe('element 1: driver: a string holds U+0000 (\\u0000), which PostgreSQL cannot store');
    // The quarantined element is JSON with the NUL escaped: storable as it is.
    expect(rejections[0]!.raw).toContain('\\u0000');
    expect(rejections[0]!.raw).not.toContain('\u0000');
  });

  it('finds U+0000 in a nested value and in a field name; an escaped backslash before u0000 is not one', () => {
    expect(parseTelemetryPayload(bytes({ ...reading, tags: ['ok', { x: '\u0000' }] })).rejections[0]!.detail).toBe(
      'tags.1.x: a string holds U+0000 (\\u0000), which PostgreSQL cannot store',
    );
    expect(parseTelemetryPayload(bytes({ ...reading, 'a\u0000b': 1 })).rejections[0]!.reason).toBe('nul_character');
    const text = parseTelemetryPayload(bytes({ ...reading, note: 'C:\\u0000' }));
    expect(text.rejections).toEqual([]);
    expect(text.readings[0]!.attributes).toEqual({ note: 'C:\\u0000' });
  });

  it("judges a lone object the careful way unless it is the contract's fields alone, valid as they came", () => {
    // The time holding U+0000 fails the fast path's pattern, and the scan names it.
    expect(parseTelemetryPayload(bytes({ ...reading, ts: '2026-11-27T01:02:03.000Z\u0000' })).rejections[0]!.reason).toBe('nul_character');
    // Nesting where a number belongs, and broken JSON nested deep, are said to be too deep; broken shallow JSON is not JSON.
    const deepLat = `{"ts":"2026-11-27T01:02:03.000Z","lon":123.6,"lat":${'['.repeat(40)}1${']'.repeat(40)}}`;
    expect(parseTelemetryPayload(bytes(deepLat)).rejections[0]!.reason).toBe('too_deeply_nested');
    expect(parseTelemetryPayload(bytes(`{"ts":${'['.repeat(5000)}`)).rejections[0]!.reason).toBe('too_deeply_nested');
    expect(parseTelemetryPayload(bytes('{"ts":[[1]')).rejections[0]!.reason).toBe('not_json');
    // The fast path's reading is the schema's.
    const fast = parseTelemetryPayload(bytes({ ...reading, speedKmh: 42.5, ignition: true, seq: 7 }));
    expect(fast).toEqual({ readings: [parseWithSchema({ ...reading, speedKmh: 42.5, ignition: true, seq: 7 })], rejections: [] });
  });

  it('never lets U+0000 into a reading, whatever the strings hold', () => {
    const withNul = fc.string().map((s) => `${s}\u0000${s}`);
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(fc.string(), withNul), fc.oneof(fc.string(), withNul, fc.array(withNul))), (extra) => {
        const { readings, rejections } = parseTelemetryPayload(bytes([{ ...extra, ...reading }]));
        expect(readings.length + rejections.length).toBe(1);
        for (const r of readings) expect(JSON.stringify(r.attributes ?? {})).not.toContain('\\u0000');
        for (const r of rejections) expect(r.reason).toBe('nul_character');
      }),
      { numRuns: 300 },
    );
  });
});

describe("the parser's fast path", () => {
  // Values near every edge the schema draws: ranges, integers, types, absence, null.
  const edgy = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.constantFrom(
      0,
      -0,
      1,
      -1,
      0.5,
      90,
      -90,
      90.0001,
      180,
      -180.5,
      255,
      256,
      360,
      500,
      5000,
      100,
      100.5,
      1e21,
      Number.MAX_SAFE_INTEGER,
      2 ** 53,
      Infinity,
      -Infinity,
      NaN,
    ),
    fc.constantFrom(null, undefined, true, false, '1', '', [], {}),
  );
  const digits = (n: number) => fc.integer({ min: 0, max: 10 ** n - 1 }).map((x) => String(x).padStart(n, '0'));
  // Date-times shaped like RFC 3339 with every component free, so invalid days and hours come up.
  const dateLike = fc
    .tuple(
      digits(4),
      digits(2),
      digits(2),
      digits(2),
      digits(2),
      digits(2),
      fc.constantFrom('', '.5', '.123', '.123456789', '.'),
      fc.constantFrom('Z', 'z', '+08:00', '-23:59', '+24:00', '+08:60', '+0800', ''),
    )
    .map(([y, mo, d, h, mi, s, frac, zone]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${zone}`);
  const ts = fc.oneof(
    dateLike,
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.integer({ min: 0, max: 2 ** 53 }),
    fc.double(),
    fc.string(),
  );
  /** Mostly a value the schema takes, sometimes one from the edges, sometimes nothing. */
  const mostly = (valid: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: edgy, weight: 1 });
  const real = (min: number, max: number) => fc.double({ min, max, noNaN: true });
  const whole = (min: number, max: number) => fc.integer({ min, max });
  const element = fc.record(
    {
      ts: fc.oneof(
        {
          arbitrary: fc.date({ min: new Date('2000-01-02'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
          weight: 6,
        },
        { arbitrary: whole(946_684_800_000, 4_102_444_800_000), weight: 3 },
        { arbitrary: ts, weight: 2 },
        { arbitrary: edgy, weight: 1 },
      ),
      lat: mostly(real(-90, 90)),
      lon: mostly(real(-180, 180)),
      speedKmh: mostly(real(0, 500)),
      headingDeg: mostly(real(0, 360)),
      altitudeM: mostly(real(-1000, 20000)),
      satellites: mostly(whole(0, 255)),
      hdop: mostly(real(0, 100)),
      odometerKm: mostly(real(0, 10_000_000)),
      fuelLitres: mostly(real(0, 5000)),
      fuelPercent: mostly(real(0, 100)),
      fuelUsedLitres: mostly(real(0, 1e12)),
      batteryV: mostly(real(0, 100)),
      seq: mostly(whole(0, Number.MAX_SAFE_INTEGER)),
      ignition: mostly(fc.boolean()),
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );

  it('never accepts what the schema refuses, and reads what it accepts the same way', () => {
    let accepted = 0;
    fc.assert(
      fc.property(element, (candidate) => {
        // Through JSON and back, as the parser sees it (undefined fields vanish).
        const decoded = JSON.parse(JSON.stringify(candidate) ?? 'null') as Record<string, unknown>;
        const quick = quickReadingForTests(decoded);
        const schema = parseWithSchema(decoded);
        if (quick) {
          accepted++;
          expect(schema).toStrictEqual(quick);
        }
      }),
      { numRuns: 3000 },
    );
    // Enough of the runs reach the comparison for it to mean something.
    expect(accepted).toBeGreaterThan(100);
  });

  it('agrees with the schema on every date-time at the edges of its components', () => {
    let checked = 0;
    for (const y of ['1900', '2000', '2023', '2024', '2100'])
      for (const mo of ['00', '01', '02', '04', '12', '13'])
        for (const d of ['00', '01', '28', '29', '30', '31', '32'])
          for (const h of ['00', '23', '24'])
            for (const mi of ['59', '60'])
              for (const sec of ['59', '60'])
                for (const zone of ['Z', '+23:59', '-24:00', '+08:60', '+0800', ''])
                  for (const frac of ['', '.123456', '.']) {
                    const element = { ts: `${y}-${mo}-${d}T${h}:${mi}:${sec}${frac}${zone}`, lat: 0.5, lon: 1 };
                    const schemaTakes = !('reason' in parseWithSchema(element));
                    expect(quickReadingForTests(element) !== undefined, element.ts).toBe(schemaTakes);
                    checked++;
                  }
    expect(checked).toBe(5 * 6 * 7 * 3 * 2 * 2 * 6 * 3);
  });

  it('takes the common reading, so the schema is the exception', () => {
    const reading = {
      ts: '2026-11-28T03:00:00.000Z',
      lat: -10.17,
      lon: 123.6,
      speedKmh: 40,
      headingDeg: 90,
      ignition: true,
      odometerKm: 12000.5,
      fuelLitres: 40.2,
      batteryV: 13.9,
      satellites: 9,
      hdop: 0.9,
      seq: 12,
      driver: 'x',
    };
    expect(quickReadingForTests(reading)).toStrictEqual(parseWithSchema(reading));
    expect(quickReadingForTests({ ...reading, ts: 1_764_298_800_000 })).toBeDefined();
    expect(quickReadingForTests({ ...reading, ts: '2026-02-29T03:00:00Z' })).toBeUndefined();
    expect(quickReadingForTests({ ...reading, seq: 1.5 })).toBeUndefined();
  });

  it('keeps a field named __proto__ as an attribute, not as a prototype', () => {
    const decoded = JSON.parse('{"ts":"2026-11-28T03:00:00Z","lat":-10.1,"lon":123.6,"__proto__":{"polluted":true}}') as Record<
      string,
      unknown
    >;
    const quick = quickReadingForTests(decoded)!;
    expect(Object.getPrototypeOf(quick.attributes)).toBe(Object.prototype);
    expect(Object.keys(quick.attributes!)).toEqual(['__proto__']);
    expect(JSON.stringify(quick.attributes)).toBe('{"__proto__":{"polluted":true}}');
  });
});

describe('topics', () => {
  it('builds and parses the telemetry topic', () => {
    expect(telemetryTopic('dh-1234-ab')).toBe('fleet/v1/devices/dh-1234-ab/telemetry');
    expect(deviceIdFromTelemetryTopic('fleet/v1/devices/dh-1234-ab/telemetry')).toBe('dh-1234-ab');
    expect(liveTopic('d', 'v')).toBe('fleet/v1/live/d/v');
  });

  it.each([
    'fleet/v1/devices/x/other',
    'fleet/v2/devices/x/telemetry',
    'fleet/v1/devices//telemetry',
    'fleet/v1/devices/a b/telemetry',
    'owntracks/u/d',
    'fleet/v1/devices/a/b/telemetry',
    'fleet/v1/devices/telemetry',
    'xfleet/v1/devices/a/telemetry',
    'fleet/v1/devices/a/telemetry/',
    '/fleet/v1/devices/a/telemetry',
    `fleet/v1/devices/${'a'.repeat(65)}/telemetry`,
  ])('finds no device id in %s', (topic) => expect(deviceIdFromTelemetryTopic(topic)).toBeNull());
});
