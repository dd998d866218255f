import * as mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { encodePubacks, encodePublishQos0 } from '../../src/ingest/mqtt-encode.js';

describe('hand-encoded MQTT packets', () => {
  it('PUBACKs match mqtt-packet byte for byte, for every kind of packet identifier', () => {
    const ids = [1, 2, 127, 128, 255, 256, 4095, 32768, 65535];
    const expected = Buffer.concat(ids.map((messageId) => mqttPacket.generate({ cmd: 'puback', messageId })));
    expect(encodePubacks(ids).equals(expected)).toBe(true);
    expect(encodePubacks([]).byteLength).toBe(0);
  });

  it('QoS 0 PUBLISH matches mqtt-packet across the remaining-length boundaries, with text and bytes', () => {
    const topic = 'fleet/v1/live/9f0c2a4e-1b7d-4c55-a0e8-2f6b9d3c7e11/ä-vehicle';
    // Remaining lengths around 127, 16,383 and 2,097,151 (one, two, three and four length bytes).
    for (const size of [0, 1, 60, 61, 62, 127, 16_300, 16_400, 2_097_000, 2_097_200]) {
      const text = 'x'.repeat(Math.max(0, size - 1)) + (size > 0 ? 'é' : '');
      for (const payload of [text, Buffer.from(text)]) {
        const expected = mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, dup: false, retain: false });
        const actual = encodePublishQos0(topic, payload);
        expect(actual.byteLength, `payload ${size}`).toBe(expected.byteLength);
        expect(actual.equals(expected), `payload ${size}`).toBe(true);
      }
    }
  });

  it('decodes back to the same topic and payload', () => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const packets: mqttPacket.Packet[] = [];
    parser.on('packet', (p) => packets.push(p));
    parser.parse(encodePublishQos0('fleet/v1/live/d/v', '{"lat":-10.17}'));
    expect(packets).toHaveLength(1);
    const p = packets[0] as mqttPacket.IPublishPacket;
    expect(p.topic).toBe('fleet/v1/live/d/v');
    expect(p.payload.toString()).toBe('{"lat":-10.17}');
    expect(p.qos).toBe(0);
  });

  it('refuses a topic longer than MQTT allows', () => {
    expect(() => encodePublishQos0('t'.repeat(70_000), 'x')).toThrow(RangeError);
  });
});
