/**
 * The ingest session's own framing and PUBLISH decoding (src/ingest/mqtt-frames.ts) against
 * mqtt-packet's parser, which it replaced on the hot path: the same stream, cut into chunks
 * at every kind of boundary (inside a length, a topic, a packet identifier, a payload, and
 * one byte at a time), must give the same packets in the same order.
 */
import * as mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttFrameError, MqttFramer } from '../../src/ingest/mqtt-frames.js';

/** Deterministic (mulberry32): the cuts are the same on every run. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Seen = { cmd: string; topic?: string; payload?: string; qos?: number; messageId?: number; dup?: boolean; retain?: boolean };

const publish = (topic: string, payload: Buffer | string, qos: 0 | 1 | 2, extra: { dup?: boolean; retain?: boolean } = {}, messageId = 0) =>
  mqttPacket.generate({
    cmd: 'publish',
    topic,
    payload,
    qos,
    dup: extra.dup ?? false,
    retain: extra.retain ?? false,
    ...(qos > 0 ? { messageId } : {}),
  });

/** Every kind of packet the session can receive, PUBLISH in all its forms. */
function stream(): Buffer {
  const packets: Buffer[] = [
    mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: true }),
    mqttPacket.generate({ cmd: 'suback', messageId: 7, granted: [1, 1, 0x80] }),
    publish('fleet/v1/devices/kpg-001/telemetry', '{"lat":-10.17}', 1, {}, 1),
    publish('owntracks/budi@kpg/hp', '', 0),
    publish('fleet/v1/devices/é-ü-🚗/telemetry', Buffer.from([0, 1, 2, 255]), 1, { dup: true }, 65535),
    publish('t', 'x'.repeat(127 - 3), 0, { retain: true }),
    publish('t', 'x'.repeat(128 - 3), 0),
    publish('a/b', 'y'.repeat(16_383), 2, {}, 256),
    publish('a/b', 'z'.repeat(200_000), 1, {}, 32768),
    mqttPacket.generate({ cmd: 'pingresp' }),
    mqttPacket.generate({ cmd: 'unsuback', messageId: 9, granted: [] }),
    mqttPacket.generate({ cmd: 'puback', messageId: 3 }),
  ];
  for (let i = 0; i < 300; i++) packets.push(publish(`fleet/v1/devices/bench-${i}/telemetry`, JSON.stringify({ seq: i }), 1, {}, i + 1));
  return Buffer.concat(packets);
}

function viaMqttPacket(bytes: Buffer): Seen[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const seen: Seen[] = [];
  parser.on('packet', (p) => seen.push(describePacket(p)));
  parser.parse(bytes);
  return seen;
}

function describePacket(p: mqttPacket.Packet): Seen {
  if (p.cmd !== 'publish') return { cmd: p.cmd };
  const payload = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload);
  return {
    cmd: 'publish',
    topic: p.topic,
    payload: payload.toString('hex'),
    qos: p.qos,
    messageId: p.messageId,
    dup: p.dup,
    retain: p.retain,
  };
}

function viaFramer(chunks: Buffer[]): Seen[] {
  const seen: Seen[] = [];
  const others = mqttPacket.parser({ protocolVersion: 4 });
  others.on('packet', (p) => seen.push(describePacket(p)));
  const framer = new MqttFramer(
    (f) =>
      seen.push({
        cmd: 'publish',
        topic: f.topic,
        payload: f.payload.toString('hex'),
        qos: f.qos,
        messageId: f.messageId,
        dup: f.dup,
        retain: f.retain,
      }),
    (bytes) => others.parse(bytes),
  );
  for (const chunk of chunks) framer.push(chunk);
  return seen;
}

function cut(bytes: Buffer, sizes: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = Math.max(1, Math.min(bytes.length - at, sizes()));
    // Copies, as sockets give: nothing may depend on the chunks sharing memory.
    chunks.push(Buffer.from(bytes.subarray(at, at + n)));
    at += n;
  }
  return chunks;
}

describe('MQTT framing and PUBLISH decoding', () => {
  const bytes = stream();
  const expected = viaMqttPacket(bytes);

  it('gives what mqtt-packet gives for the whole stream at once', () => {
    expect(expected).toHaveLength(312);
    expect(viaFramer([bytes])).toEqual(expected);
  });

  it('gives the same, in order, however the stream is cut', () => {
    const random = rng(20261206);
    for (const [name, sizes] of [
      ['tiny chunks', () => 1 + Math.floor(random() * 6)],
      ['socket-sized chunks', () => 1 + Math.floor(random() * 65_536)],
      ['mixed', () => (random() < 0.5 ? 1 + Math.floor(random() * 4) : 1 + Math.floor(random() * 20_000))],
    ] as const) {
      expect(viaFramer(cut(bytes, sizes)), name).toEqual(expected);
    }
  });

  it('gives the same one byte at a time', () => {
    const head = bytes.subarray(0, 20_000);
    expect(viaFramer(cut(head, () => 1))).toEqual(viaMqttPacket(head));
  });

  it('hands the payload as a view of the received bytes, which later chunks do not disturb', () => {
    const payloads: Buffer[] = [];
    const framer = new MqttFramer(
      (f) => payloads.push(f.payload),
      () => undefined,
    );
    const a = publish('t', 'first', 1, {}, 1);
    const b = publish('t', 'second', 1, {}, 2);
    const both = Buffer.concat([a, b]);
    framer.push(Buffer.from(both.subarray(0, a.length + 3)));
    framer.push(Buffer.from(both.subarray(a.length + 3)));
    expect(payloads.map((p) => p.toString())).toEqual(['first', 'second']);
  });

  it('refuses what breaks the protocol, as mqtt-packet does (and one case it misses)', () => {
    const refused = (bytes: number[], message: string, mqttPacketToo = true) => {
      const framer = new MqttFramer(
        () => undefined,
        () => undefined,
      );
      expect(() => framer.push(Buffer.from(bytes))).toThrow(MqttFrameError);
      expect(() =>
        new MqttFramer(
          () => undefined,
          () => undefined,
        ).push(Buffer.from(bytes)),
      ).toThrow(message);
      if (!mqttPacketToo) return;
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      const errors: Error[] = [];
      parser.on('error', (e) => errors.push(e));
      parser.parse(Buffer.from(bytes));
      expect(errors.map((e) => e.message)).toContain(message);
    };
    // A remaining length of five bytes.
    refused([0x30, 0xff, 0xff, 0xff, 0xff, 0x01], 'Invalid variable byte integer');
    // QoS 3.
    refused([0x36, 0x04, 0x00, 0x01, 0x74, 0x78], 'Packet must not have both QoS bits set to 1');
    // A topic longer than the packet.
    refused([0x30, 0x03, 0x00, 0x09, 0x74], 'Cannot parse topic');
    // QoS 1 without room for the packet identifier (mqtt-packet reads past the packet here).
    refused([0x32, 0x04, 0x00, 0x01, 0x74, 0x00], 'Cannot parse messageId', false);
  });
});
