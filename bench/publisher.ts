/**
 * The benchmark's device traffic: one MQTT 3.1.1 client that publishes pre-built QoS 1
 * PUBLISH packets, keeping a window of them unacknowledged and refilling it as PUBACKs
 * arrive. Written with mqtt-packet over a socket because MQTT.js spends more CPU per
 * message than the broker does, and the publisher shares the machine with what is
 * measured. Packets are built before the clock starts, so both phases pay the same
 * (small) cost per message: a socket write.
 */
import { once } from 'node:events';
import net from 'node:net';
import * as mqttPacket from 'mqtt-packet';

export interface PreparedMessages {
  /** Complete PUBLISH packets, message ids already in place. */
  packets: Buffer[];
  /** The message id inside each packet, to keep two packets with one id from being in flight together. */
  messageIds: Uint16Array;
  payloadBytesMean: number;
}

export function prepareMessages(messages: ReadonlyArray<{ topic: string; payload: string }>): PreparedMessages {
  const packets: Buffer[] = new Array(messages.length);
  const messageIds = new Uint16Array(messages.length);
  let payloadBytes = 0;
  messages.forEach((m, i) => {
    const messageId = (i % 65535) + 1;
    messageIds[i] = messageId;
    const payload = Buffer.from(m.payload);
    payloadBytes += payload.byteLength;
    packets[i] = mqttPacket.generate({ cmd: 'publish', topic: m.topic, payload, qos: 1, messageId, dup: false, retain: false });
  });
  return { packets, messageIds, payloadBytesMean: messages.length === 0 ? 0 : payloadBytes / messages.length };
}

export interface PublishOutcome {
  firstSentAtMs: number;
  /** When the broker had acknowledged every message: it holds them all from then on. */
  lastAckedAtMs: number;
}

export async function publishAll(
  url: string,
  prepared: PreparedMessages,
  options: { windowSize: number; clientId: string; signal?: AbortSignal; username?: string; password?: string },
): Promise<PublishOutcome> {
  const { packets, messageIds } = prepared;
  const target = new URL(url);
  const socket = net.connect({ host: target.hostname, port: Number(target.port) });
  socket.setNoDelay(true);
  await once(socket, 'connect');
  const parser = mqttPacket.parser({ protocolVersion: 4 });

  return new Promise<PublishOutcome>((resolve, reject) => {
    const inFlight = new Uint8Array(65536);
    let inFlightCount = 0;
    let next = 0;
    let acked = 0;
    let firstSentAtMs = 0;
    let settled = false;

    const finish = (err: Error | undefined, outcome?: PublishOutcome) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (err) {
        socket.destroy();
        reject(err);
        return;
      }
      socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
      resolve(outcome!);
    };
    const onAbort = () => finish(new Error('publishing aborted'));
    options.signal?.addEventListener('abort', onAbort);

    /** Sends as much as the window allows, in one write. */
    const pump = () => {
      const out: Buffer[] = [];
      while (next < packets.length && inFlightCount < options.windowSize) {
        const id = messageIds[next]!;
        // Ids wrap at 65535: wait rather than reuse one whose PUBACK is still due.
        if (inFlight[id] === 1) break;
        inFlight[id] = 1;
        inFlightCount++;
        out.push(packets[next]!);
        next++;
      }
      if (out.length === 0) return;
      if (firstSentAtMs === 0) firstSentAtMs = Date.now();
      socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    };

    parser.on('packet', (packet: mqttPacket.Packet) => {
      if (packet.cmd === 'connack') {
        if (packet.returnCode !== 0) finish(new Error(`broker refused the publisher (CONNACK ${packet.returnCode})`));
        else if (packets.length === 0) finish(undefined, { firstSentAtMs: Date.now(), lastAckedAtMs: Date.now() });
        else pump();
        return;
      }
      if (packet.cmd === 'puback' && packet.messageId !== undefined && inFlight[packet.messageId] === 1) {
        inFlight[packet.messageId] = 0;
        inFlightCount--;
        acked++;
        if (acked === packets.length) finish(undefined, { firstSentAtMs, lastAckedAtMs: Date.now() });
      }
    });
    parser.on('error', (err: Error) => finish(new Error(`publisher: MQTT protocol error: ${err.message}`)));
    socket.on('data', (data: Buffer) => {
      parser.parse(data);
      // Refill once per chunk of PUBACKs, not once per PUBACK: fewer, larger writes.
      if (!settled) pump();
    });
    socket.on('error', (err) => finish(new Error(`publisher: ${err.message}`)));
    socket.on('close', () => finish(new Error(`publisher: connection closed after ${acked} of ${packets.length} acknowledgements`)));

    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clientId: options.clientId,
        clean: true,
        keepalive: 60,
        ...(options.username !== undefined ? { username: options.username } : {}),
        ...(options.password !== undefined ? { password: Buffer.from(options.password) } : {}),
      }),
    );
  });
}
