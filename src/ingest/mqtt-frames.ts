/**
 * The broker's byte stream cut into MQTT 3.1.1 packets, with PUBLISH decoded here
 * (sections 2.2 and 3.3). The ingest session receives one PUBLISH per reading, and
 * mqtt-packet's general parser spent about a tenth of the worker's CPU on them: a buffer
 * list consumed byte by byte, a debug call at every step, a packet object of a dozen
 * fields. Every other packet (CONNACK, SUBACK, PINGRESP …) is handed whole to
 * mqtt-packet as before. tests/unit/mqtt-frames.test.ts holds the two equal on streams
 * cut at every kind of boundary.
 */

/** A received PUBLISH. */
export interface PublishFrame {
  topic: string;
  /** A view into the received bytes, not a copy. */
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** The packet identifier; QoS 1 and 2 only. */
  messageId: number | undefined;
  dup: boolean;
  retain: boolean;
}

/** The stream broke the protocol: the connection must be closed (MQTT-4.8.0-1). */
export class MqttFrameError extends Error {}

const PUBLISH = 3;

export class MqttFramer {
  /** Received bytes of a packet not yet whole: its start, and the chunks after. */
  private waiting: Buffer[] = [];
  private waitingBytes = 0;
  /** How many bytes that packet needs in all; 0 while its length itself is incomplete. */
  private needed = 0;

  constructor(
    private readonly onPublish: (frame: PublishFrame) => void,
    /** Any other packet, its bytes whole (fixed header included). */
    private readonly onOther: (packet: Buffer) => void,
  ) {}

  /** Takes the next bytes; calls back for every packet they complete. Throws MqttFrameError on a malformed stream. */
  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.waiting.length > 0) {
      this.waiting.push(chunk);
      this.waitingBytes += chunk.length;
      // A big packet arriving in many chunks is joined once, when it is whole.
      if (this.waitingBytes < this.needed) return;
      buf = Buffer.concat(this.waiting, this.waitingBytes);
      this.waiting = [];
      this.waitingBytes = 0;
    }
    const end = buf.length;
    let at = 0;
    while (at < end) {
      // The remaining length: one to four bytes after the first, seven bits each, low first.
      let length = 0;
      let multiplier = 1;
      let i = at + 1;
      let complete = false;
      for (let k = 0; k < 4 && i < end; k++) {
        const byte = buf[i++]!;
        length += (byte & 0x7f) * multiplier;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
        if (k === 3) throw new MqttFrameError('Invalid variable byte integer');
        multiplier *= 128;
      }
      if (!complete || i + length > end) {
        this.needed = complete ? i + length - at : 0;
        break;
      }
      const packetEnd = i + length;
      if (buf[at]! >> 4 === PUBLISH) this.onPublish(decodePublish(buf, buf[at]!, i, packetEnd));
      else this.onOther(buf.subarray(at, packetEnd));
      at = packetEnd;
    }
    if (at < end) {
      // Copied: a view would hold the whole chunk for a few bytes.
      const part = Buffer.from(buf.subarray(at));
      this.waiting = [part];
      this.waitingBytes = part.length;
    }
  }
}

function decodePublish(buf: Buffer, first: number, start: number, end: number): PublishFrame {
  const qos = (first >> 1) & 0x03;
  if (qos === 3) throw new MqttFrameError('Packet must not have both QoS bits set to 1');
  if (start + 2 > end) throw new MqttFrameError('Cannot parse topic');
  const topicEnd = start + 2 + buf.readUInt16BE(start);
  if (topicEnd > end) throw new MqttFrameError('Cannot parse topic');
  const topic = buf.toString('utf8', start + 2, topicEnd);
  let payloadStart = topicEnd;
  let messageId: number | undefined;
  if (qos > 0) {
    if (payloadStart + 2 > end) throw new MqttFrameError('Cannot parse messageId');
    messageId = buf.readUInt16BE(payloadStart);
    payloadStart += 2;
  }
  return {
    topic,
    payload: buf.subarray(payloadStart, end),
    qos: qos as 0 | 1 | 2,
    messageId,
    dup: (first & 0x08) !== 0,
    retain: (first & 0x01) !== 0,
  };
}
