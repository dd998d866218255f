/** The embedded broker's packet size guard (src/broker/limits.ts) on chunks cut anywhere. */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import * as mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { guardPacketSize } from '../../src/broker/limits.js';

/** Feeds `bytes` to a guard in chunks of `size`; returns what it reported. */
function feed(bytes: Buffer, size: number, maxBytes: number): number[] {
  const socket = new EventEmitter();
  const reported: number[] = [];
  guardPacketSize(socket as unknown as net.Socket, maxBytes, (n) => reported.push(n));
  for (let i = 0; i < bytes.length; i += size) socket.emit('data', bytes.subarray(i, i + size));
  return reported;
}

const topic = 'fleet/v1/devices/d/telemetry';
const publish = (payloadBytes: number) =>
  mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.alloc(payloadBytes), qos: 1, messageId: 1, retain: false, dup: false });
const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'd', clean: true, keepalive: 60 });

describe('guardPacketSize', () => {
  it('lets a stream of packets under the limit through, whatever the chunking', () => {
    const stream = Buffer.concat([connect, publish(100), publish(20_000), publish(0), mqttPacket.generate({ cmd: 'pingreq' })]);
    for (const size of [1, 2, 3, 7, 64, 1000, stream.length]) {
      expect(feed(stream, size, 20_100), `chunks of ${size}`).toEqual([]);
    }
  });

  it('reports the first packet over the limit with its announced size, even when its header is split', () => {
    const big = publish(30_000);
    const stream = Buffer.concat([connect, publish(100), big, publish(10)]);
    for (const size of [1, 2, 5, 4096]) expect(feed(stream, size, 20_000), `chunks of ${size}`).toEqual([big.length]);
  });

  it('reports a header announcing 256 MiB from its first bytes, once', () => {
    expect(feed(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0]), 1, 1024)).toEqual([5 + 268_435_455]);
  });
});
