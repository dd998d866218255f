/**
 * The two packets the ingest session sends by the thousand, encoded by hand (MQTT 3.1.1,
 * sections 3.3 and 3.4): a committed batch means hundreds of PUBACKs and live positions,
 * and mqtt-packet's general `generate` allocated several buffers for each of them.
 * tests/unit/mqtt-encode.test.ts checks both against mqtt-packet byte for byte.
 */

/** PUBACKs for these packet identifiers, back to back in one buffer. */
export function encodePubacks(messageIds: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(4 * messageIds.length);
  let at = 0;
  for (const id of messageIds) {
    out[at] = 0x40; // PUBACK
    out[at + 1] = 0x02; // remaining length
    out[at + 2] = id >> 8;
    out[at + 3] = id & 0xff;
    at += 4;
  }
  return out;
}

/** The maximum remaining length MQTT can express (four length bytes). */
const MAX_REMAINING_LENGTH = 268_435_455;

/** A QoS 0 PUBLISH, not retained. */
export function encodePublishQos0(topic: string, payload: string | Buffer): Buffer {
  const topicBytes = Buffer.byteLength(topic, 'utf8');
  const payloadBytes = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
  if (topicBytes > 0xffff) throw new RangeError(`MQTT topic of ${topicBytes} bytes; the limit is 65535`);
  const remaining = 2 + topicBytes + payloadBytes;
  if (remaining > MAX_REMAINING_LENGTH) throw new RangeError(`MQTT packet of ${remaining} bytes is too large`);
  let lengthBytes = 1;
  for (let n = remaining; n > 127; n = Math.floor(n / 128)) lengthBytes++;
  const out = Buffer.allocUnsafe(1 + lengthBytes + remaining);
  out[0] = 0x30; // PUBLISH, QoS 0, no DUP, no RETAIN
  let at = 1;
  let n = remaining;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out[at++] = byte;
  } while (n > 0);
  out.writeUInt16BE(topicBytes, at);
  at += 2;
  at += out.write(topic, at, 'utf8');
  if (typeof payload === 'string') out.write(payload, at, 'utf8');
  else payload.copy(out, at);
  return out;
}
