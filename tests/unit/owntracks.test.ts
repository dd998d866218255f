/**
 * OwnTracks phones: the parser of `_type: "location"` messages (src/domain/owntracks.ts)
 * and the pipeline's mapping of `owntracks/{user}/{device}` to a registered device. Like
 * the Armada parser's property tests (telemetry.test.ts): whatever arrives, nothing
 * throws, and every message ends as a reading or as a reason.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseOwnTracksPayload } from '../../src/domain/owntracks.js';
import { rejectReasons, type Reading } from '../../src/domain/telemetry.js';
import { DEVICE_ID_PATTERN, deviceFromTopic, ownTracksTopic, telemetryTopic } from '../../src/domain/topics.js';
import { createPipeline, type RawMessage } from '../../src/ingest/pipeline.js';
import type { DeviceIdentity } from '../../src/domain/ingest-types.js';

const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const NOW_S = Math.floor(Date.now() / 1000);

/** The booklet's example, with a fix a minute old. */
const location = {
  _type: 'location',
  tid: 'bd',
  lat: -10.1581,
  lon: 123.6061,
  tst: NOW_S - 60,
  vel: 18,
  cog: 90,
  alt: 40,
  acc: 8,
  batt: 77,
  conn: 'm',
};

/** The Armada reading fields: an OwnTracks message names none of them. */
const ARMADA_FIELDS = [
  'ts',
  'lat',
  'lon',
  'speedKmh',
  'headingDeg',
  'altitudeM',
  'satellites',
  'hdop',
  'ignition',
  'odometerKm',
  'fuelLitres',
  'fuelPercent',
  'fuelUsedLitres',
  'batteryV',
  'seq',
];
const MAPPED = ['_type', 'tst', 'lat', 'lon', 'vel', 'cog', 'alt'];
const RENAMED: Record<string, string> = { acc: 'accuracyM', batt: 'phoneBatteryPercent', vac: 'verticalAccuracyM' };
/** What a rejected location is rejected for: the reading's validation, or a tst in milliseconds. */
const VALIDATION_REASONS = ['missing_field', 'invalid_field', 'invalid_coordinates', 'timestamp_in_milliseconds'];

/** One outcome per OwnTracks message, with a reason from the stable list when it is a rejection. */
function expectOneOutcome(result: ReturnType<typeof parseOwnTracksPayload>): void {
  expect(result.readings.length + result.rejections.length).toBe(1);
  for (const r of result.rejections) {
    expect(rejectReasons).toContain(r.reason);
    expect(r.detail.length).toBeGreaterThan(0);
    expect(r.raw).toBeNull();
  }
  for (const r of result.readings) {
    expect(Number.isSafeInteger(r.fixAtMs)).toBe(true);
    expect(Math.abs(r.lat)).toBeLessThanOrEqual(90);
    expect(Math.abs(r.lon)).toBeLessThanOrEqual(180);
  }
}

// Values near every edge the validation draws, and of every JSON type.
const edgy = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    0,
    -0,
    -1,
    0.5,
    90,
    -90.0001,
    180.5,
    360,
    361,
    500,
    501,
    -1001,
    20001,
    1e21,
    946_684_799,
    946_684_800,
    1e12,
    Number.MAX_SAFE_INTEGER,
    NaN,
    Infinity,
  ),
  fc.constantFrom(null, true, false, '', '1700000000', 'location', [], {}),
  fc.string(),
);
const mostly = (valid: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: valid, weight: 10 }, { arbitrary: edgy, weight: 1 });
const real = (min: number, max: number) => fc.double({ min, max, noNaN: true });

/** A field name a phone might add: not one the parser maps, renames or takes as an Armada field. */
const reserved = new Set([...ARMADA_FIELDS, ...MAPPED, ...Object.keys(RENAMED), ...Object.values(RENAMED)]);
const extraKey = fc
  .oneof(
    fc.constantFrom('tid', 'conn', 'bs', 'm', 't', 'p', 'SSID', 'BSSID', 'created_at', 'inregions', 'topic', 'poi', 'tag'),
    fc.string({ minLength: 1, maxLength: 12 }),
  )
  .filter((k) => !reserved.has(k) && !(k in Object.prototype));

const ownTracksMessage = fc
  .record(
    {
      _type: fc.oneof(
        { arbitrary: fc.constant('location'), weight: 12 },
        { arbitrary: fc.constantFrom('lwt', 'transition', 'waypoint', 'card', 'cmd', 'Location', ''), weight: 2 },
        { arbitrary: edgy, weight: 1 },
      ),
      // Epoch seconds, sometimes with a fraction (a few apps send one).
      tst: mostly(fc.oneof(fc.integer({ min: 946_684_800, max: 4_102_444_800 }), real(946_684_800, 4_102_444_800))),
      lat: mostly(real(-90, 90)),
      lon: mostly(real(-180, 180)),
      vel: mostly(fc.integer({ min: 0, max: 500 })),
      cog: mostly(fc.integer({ min: 0, max: 360 })),
      alt: mostly(fc.integer({ min: -1000, max: 20000 })),
      acc: mostly(fc.integer({ min: 0, max: 5000 })),
      vac: mostly(fc.integer({ min: 0, max: 5000 })),
      batt: mostly(fc.integer({ min: 0, max: 100 })),
    },
    { requiredKeys: [] },
  )
  .chain((message) => fc.dictionary(extraKey, fc.jsonValue(), { maxKeys: 4 }).map((extra) => ({ ...extra, ...message })));

describe('parseOwnTracksPayload', () => {
  it('maps a location onto the Armada reading and keeps the rest as attributes', () => {
    const { readings, rejections } = parseOwnTracksPayload(bytes(location));
    expect(rejections).toEqual([]);
    expect(readings).toEqual([
      {
        fixAtMs: location.tst * 1000,
        lat: location.lat,
        lon: location.lon,
        speedKmh: 18,
        headingDeg: 90,
        altitudeM: 40,
        satellites: null,
        hdop: null,
        ignition: null,
        odometerKm: null,
        fuelLitres: null,
        fuelPercent: null,
        fuelUsedLitres: null,
        batteryV: null,
        seq: null,
        attributes: { tid: 'bd', accuracyM: 8, phoneBatteryPercent: 77, conn: 'm' },
      } satisfies Reading,
    ]);
  });

  it('names the OwnTracks field, not the Armada one, when a location is refused', () => {
    const missing = parseOwnTracksPayload(bytes({ ...location, tst: undefined }));
    expect(missing.rejections[0]).toMatchObject({ reason: 'missing_field' });
    expect(missing.rejections[0]!.detail).toMatch(/\btst\b/);
    const badSpeed = parseOwnTracksPayload(bytes({ ...location, vel: -3 }));
    expect(badSpeed.rejections[0]).toMatchObject({ reason: 'invalid_field' });
    expect(badSpeed.rejections[0]!.detail).toMatch(/\bvel\b/);
    expect(badSpeed.rejections[0]!.detail).not.toMatch(/speedKmh/);
  });

  it.each([
    ['not JSON', '{"_type": "loc', 'not_json'],
    ['an array', JSON.stringify([location]), 'not_an_object'],
    ['null', 'null', 'not_an_object'],
    ['a last will', JSON.stringify({ _type: 'lwt', tst: NOW_S }), 'not_a_location'],
    ['no _type', JSON.stringify({ ...location, _type: undefined }), 'not_a_location'],
    ['latitude 91', JSON.stringify({ ...location, lat: 91 }), 'invalid_coordinates'],
    ['tst before 2000', JSON.stringify({ ...location, tst: 946_684_799 }), 'invalid_field'],
    ['tst as text', JSON.stringify({ ...location, tst: String(NOW_S) }), 'invalid_field'],
    ['a payload over the size limit', `{"_type":"location","pad":"${'x'.repeat(300 * 1024)}"}`, 'payload_too_large'],
  ])('rejects %s', (_label, payload, reason) => {
    const { readings, rejections } = parseOwnTracksPayload(bytes(payload));
    expect(readings).toEqual([]);
    expect(rejections.map((r) => r.reason)).toEqual([reason]);
  });

  it('never throws, and always answers one reading or one known reason (random bytes)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (data) => expectOneOutcome(parseOwnTracksPayload(data))),
      { numRuns: 500 },
    );
  });

  it('never throws on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = parseOwnTracksPayload(bytes(JSON.stringify(value)));
        expectOneOutcome(result);
        // Only a location can be a reading.
        if (result.readings.length > 0) expect((value as Record<string, unknown>)._type).toBe('location');
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on random OwnTracks-shaped objects, and maps every accepted one field by field', () => {
    let accepted = 0;
    fc.assert(
      fc.property(ownTracksMessage, (message) => {
        // Through JSON, as the parser sees it (NaN and Infinity become null, undefined vanishes).
        const text = JSON.stringify(message);
        const decoded = JSON.parse(text) as Record<string, unknown>;
        const result = parseOwnTracksPayload(bytes(text));
        expectOneOutcome(result);
        const [reading] = result.readings;
        const [rejection] = result.rejections;
        if (decoded._type !== 'location') {
          expect(rejection?.reason).toBe('not_a_location');
          return;
        }
        if (rejection) {
          expect(VALIDATION_REASONS).toContain(rejection.reason);
          // The detail speaks OwnTracks: the phone's owner never sent a field called ts or speedKmh.
          // (Only its first mention of ts: a second one of the same field keeps the Armada name; reported.)
          expect(rejection.detail).not.toMatch(/^ts\b|speedKmh|headingDeg|altitudeM/);
          return;
        }
        accepted++;
        const { tst, vel, cog, alt } = decoded;
        expect(typeof tst).toBe('number');
        expect(reading!.fixAtMs).toBe(Math.round((tst as number) * 1000));
        expect(reading!.lat).toBe(decoded.lat);
        expect(reading!.lon).toBe(decoded.lon);
        expect(reading!.speedKmh).toBe(vel ?? null);
        expect(reading!.headingDeg).toBe(cog ?? null);
        expect(reading!.altitudeM).toBe(alt ?? null);
        // OwnTracks carries no fuel, ignition, odometer or seq.
        for (const field of [
          'fuelLitres',
          'fuelPercent',
          'fuelUsedLitres',
          'batteryV',
          'ignition',
          'odometerKm',
          'seq',
          'satellites',
          'hdop',
        ] as const) {
          expect(reading![field]).toBeNull();
        }
        const expected: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(decoded))
          if (!MAPPED.includes(key))
            Object.defineProperty(expected, Object.hasOwn(RENAMED, key) ? RENAMED[key]! : key, {
              value,
              enumerable: true,
              writable: true,
              configurable: true,
            });
        expect(reading!.attributes ?? {}).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
    // Enough runs reach the field-by-field comparison for it to mean something.
    expect(accepted).toBeGreaterThan(150);
  });

  // The lookup of a field's new name once found Object.prototype's members: a field called
  // `constructor` was kept as "function Object() { [native code] }", `__proto__` as
  // "[object Object]".
  it('keeps fields named like Object.prototype members under their own names', () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__']) {
      const text = `{"_type":"location","lat":-10.1,"lon":123.6,"tst":${NOW_S},${JSON.stringify(key)}:{"x":1}}`;
      const { readings } = parseOwnTracksPayload(bytes(text));
      expect(Object.keys(readings[0]!.attributes ?? {}), key).toEqual([key]);
    }
  });
});

describe('owntracks/{user}/{device} through the pipeline', () => {
  const identity = (id: string, protocol: 'armada' | 'owntracks', active = true): DeviceIdentity => ({
    id,
    vehicleId: `vehicle-of-${id}`,
    departmentId: 'dep-1',
    protocol,
    secretHash: 'unused',
    active,
  });
  const registered = new Map<string, DeviceIdentity>(
    [
      identity('budi/phone', 'owntracks'),
      identity('sari/tab', 'owntracks', false),
      identity('ani/hp', 'armada'),
      identity('tracker-1', 'armada'),
    ].map((d) => [d.id, d]),
  );
  const settings = { maxFutureS: 300, maxAgeDays: 400, maxImpliedSpeedKmh: 250 };
  const newPipeline = (looked: string[] = []) =>
    createPipeline({
      lookupDevice: (id) => {
        looked.push(id);
        return registered.get(id);
      },
      settings,
    });
  const message = (topic: string, payload: unknown, receivedAtMs = Date.now()): RawMessage => ({
    topic,
    payload: bytes(payload),
    receivedAtMs,
  });

  it('binds a location on owntracks/{user}/{device} to the OwnTracks device user/device', async () => {
    const looked: string[] = [];
    const { readings, rejected } = await newPipeline(looked)([message('owntracks/budi/phone', location)]);
    expect(rejected).toEqual([]);
    expect(looked).toEqual(['budi/phone']);
    expect(readings).toHaveLength(1);
    expect(readings[0]).toMatchObject({
      deviceId: 'budi/phone',
      vehicleId: 'vehicle-of-budi/phone',
      departmentId: 'dep-1',
      fixAtMs: location.tst * 1000,
    });
  });

  it.each([
    ['an unregistered phone', 'owntracks/budi/tablet', 'unknown_device', 'budi/tablet'],
    ['a deactivated phone', 'owntracks/sari/tab', 'inactive_device', 'sari/tab'],
    ['a device registered for the Armada protocol', 'owntracks/ani/hp', 'wrong_protocol', 'ani/hp'],
    // The phone's, beneath its topic: a location there means a user name holding the device too.
    ['a level below the device topic', 'owntracks/budi/phone/phone', 'unknown_topic', 'budi/phone'],
    ['a topic with no device part', 'owntracks/budi', 'unknown_topic', null],
    ['a user name outside the device id pattern', 'owntracks/budi santoso/phone', 'unknown_topic', null],
  ])('quarantines a location from %s', async (_label, topic, reason, deviceId) => {
    const { readings, rejected } = await newPipeline()([message(topic, location)]);
    expect(readings).toEqual([]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ topic, reason, deviceId });
    expect(rejected[0]!.payload.equals(bytes(location))).toBe(true);
  });

  it('quarantines a phone that sends tst in milliseconds with a reason that says so', async () => {
    const tstMs = Date.parse('2026-11-28T02:00:00Z');
    const { readings, rejected } = await newPipeline()([message('owntracks/budi/phone', { ...location, tst: tstMs })]);
    expect(readings).toEqual([]);
    expect(rejected.map((r) => [r.reason, r.detail])).toEqual([
      ['timestamp_in_milliseconds', `tst ${tstMs} is epoch milliseconds (2026-11-28T02:00:00.000Z); OwnTracks sends tst in epoch seconds`],
    ]);
  });

  it('tells a phone whose user name holds the device id too how to set it up', async () => {
    const { rejected } = await newPipeline()([message('owntracks/budi/phone/phone', location)]);
    expect(rejected[0]!.detail).toBe(
      'a location on owntracks/budi/phone/phone: OwnTracks locations belong on owntracks/budi/phone; the app publishes on ' +
        'owntracks/<user name>/<device id>, so set the phone\'s MQTT user name to "budi" and its device id to "phone"',
    );
  });

  it("quarantines what the app sends on its sub-topics as the phone's, with the reason", async () => {
    const event = { _type: 'transition', event: 'enter', desc: 'Kantor', tst: location.tst, lat: location.lat, lon: location.lon };
    const { readings, rejected } = await newPipeline()([
      message('owntracks/budi/phone/event', event),
      message('owntracks/budi/phone/info', { _type: 'card', name: 'Budi' }),
    ]);
    expect(readings).toEqual([]);
    expect(rejected.map((r) => [r.topic, r.deviceId, r.reason, r.detail])).toEqual([
      [
        'owntracks/budi/phone/event',
        'budi/phone',
        'not_a_location',
        'on the sub-topic event: OwnTracks _type "transition" carries no position',
      ],
      ['owntracks/budi/phone/info', 'budi/phone', 'not_a_location', 'on the sub-topic info: OwnTracks _type "card" carries no position'],
    ]);
  });

  it('keeps acc, batt and alt', async () => {
    const { readings } = await newPipeline()([message('owntracks/budi/phone', location)]);
    expect(readings[0]).toMatchObject({ altitudeM: 40, attributes: { accuracyM: 8, phoneBatteryPercent: 77, tid: 'bd', conn: 'm' } });
  });

  it('judges each topic by its own protocol: no OwnTracks id fits an Armada topic, an Armada topic gets the Armada parser', async () => {
    const { readings, rejected } = await newPipeline()([
      message(telemetryTopic('budi/phone'), location),
      message(telemetryTopic('tracker-1'), location),
    ]);
    expect(readings).toEqual([]);
    // fleet/v1/devices/budi/phone/telemetry is no telemetry topic; tracker-1's payload lacks ts.
    expect(rejected.map((r) => [r.topic, r.reason])).toEqual([
      ['fleet/v1/devices/budi/phone/telemetry', 'unknown_topic'],
      ['fleet/v1/devices/tracker-1/telemetry', 'missing_field'],
    ]);
  });

  it('finds user/device in every owntracks topic whose parts fit the device id pattern, and nothing in the others', () => {
    const part = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/);
    fc.assert(
      fc.property(part, part, (user, device) => {
        const id = `${user}/${device}`;
        expect(ownTracksTopic(id)).toBe(`owntracks/${user}/${device}`);
        expect(deviceFromTopic(ownTracksTopic(id))).toEqual({ deviceId: id, protocol: 'owntracks' });
      }),
      { numRuns: 300 },
    );
    const level = fc.string().filter((x) => !x.includes('/'));
    fc.assert(
      fc.property(level, level, (user, device) => {
        const found = deviceFromTopic(`owntracks/${user}/${device}`);
        const fits = DEVICE_ID_PATTERN.test(user) && DEVICE_ID_PATTERN.test(device);
        expect(found).toEqual(fits ? { deviceId: `${user}/${device}`, protocol: 'owntracks' } : null);
      }),
      { numRuns: 300 },
    );
  });

  it('finds the device and the rest beneath its topic', () => {
    expect(deviceFromTopic('owntracks/budi/phone/event')).toEqual({ deviceId: 'budi/phone', protocol: 'owntracks', subtopic: 'event' });
    expect(deviceFromTopic('owntracks/budi/phone/a/b')).toEqual({ deviceId: 'budi/phone', protocol: 'owntracks', subtopic: 'a/b' });
    expect(deviceFromTopic('owntracks/budi')).toBeNull();
  });

  // Topics: the registered phones' own, random user/device pairs, malformed owntracks topics, anything.
  const segment = fc.oneof(fc.constantFrom('budi', 'phone', 'sari', 'tab', 'ani', 'hp', 'tracker-1', ''), fc.string({ maxLength: 8 }));
  const topic = fc.oneof(
    fc.constantFrom(
      'owntracks/budi/phone',
      'owntracks/sari/tab',
      'owntracks/ani/hp',
      'owntracks/budi/phone/event',
      telemetryTopic('tracker-1'),
    ),
    fc.tuple(segment, segment).map(([u, d]) => `owntracks/${u}/${d}`),
    fc.array(segment, { maxLength: 4 }).map((parts) => ['owntracks', ...parts].join('/')),
    fc.string(),
  );
  const payload = fc.oneof(
    ownTracksMessage.map((m) =>
      bytes(JSON.stringify({ ...m, tst: typeof m.tst === 'number' ? NOW_S - (Math.abs(m.tst) % 86_400) : m.tst })),
    ),
    fc.constant(bytes(location)),
    fc.jsonValue().map((v) => bytes(JSON.stringify(v))),
    fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
  );

  /** A plausible location from the registered phone, so that enough runs store something. */
  const phoneLocation = fc
    .record({
      tst: fc.integer({ min: NOW_S - 86_400, max: NOW_S }),
      lat: real(-10.3, -10.1),
      lon: real(123.5, 123.7),
      vel: fc.integer({ min: 0, max: 120 }),
      acc: fc.nat(100),
    })
    .map((m) => ['owntracks/budi/phone', bytes({ _type: 'location', ...m })] as [string, Buffer]);

  it('never throws, and answers every message with readings bound to its own device or a reason', async () => {
    let stored = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.tuple(topic, payload), phoneLocation), { minLength: 1, maxLength: 8 }), async (pairs) => {
        const messages = pairs.map(([t, p]) => ({ topic: t, payload: p, receivedAtMs: Date.now() }));
        const { readings, rejected } = await newPipeline()(messages);
        for (const r of rejected) expect(rejectReasons).toContain(r.reason);
        // Each message accounts for at least one outcome; an OwnTracks message for exactly one.
        for (const m of messages) {
          const outcomes = readings.filter((r) => m.topic === ownTracksTopic(r.deviceId) || m.topic === telemetryTopic(r.deviceId)).length;
          const refusals = rejected.filter((r) => r.topic === m.topic).length;
          const sameTopic = messages.filter((o) => o.topic === m.topic).length;
          expect(outcomes + refusals).toBeGreaterThanOrEqual(sameTopic);
          const source = deviceFromTopic(m.topic);
          if (source?.protocol === 'owntracks') expect(outcomes + refusals).toBe(sameTopic);
        }
        // A reading only ever comes from the active device its topic names, in its own protocol.
        for (const r of readings) {
          const device = registered.get(r.deviceId)!;
          expect(device.active).toBe(true);
          expect(r.vehicleId).toBe(device.vehicleId);
          if (device.protocol === 'owntracks') expect(messages.some((m) => m.topic === ownTracksTopic(r.deviceId))).toBe(true);
          stored++;
        }
      }),
      { numRuns: 400 },
    );
    expect(stored).toBeGreaterThan(100);
  });
});
