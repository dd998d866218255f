/**
 * The ingest worker's MQTT session against a scripted broker (a TCP server speaking
 * MQTT through mqtt-packet), for orderings a real broker produces only now and then.
 *
 * A resumed persistent session is sent its queued messages right after CONNACK, before
 * the SUBACK of its subscriptions. When a batch of those commits before the SUBACK has
 * been read (a busy machine, a large backlog), its PUBACKs must still be sent: otherwise
 * the broker keeps those messages in flight for the whole connection, and once its
 * in-flight window is full of them it delivers nothing more. (Seen once in the SIGKILL
 * test: the last 1,500 readings were never delivered to a worker that was up.)
 */
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as mqttPacket from 'mqtt-packet';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerSession, type SessionMessage } from '../../src/ingest/broker-session.js';

const servers: net.Server[] = [];
const sessions: BrokerSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
  for (const s of servers.splice(0)) s.close();
});

/** A broker that answers CONNECT with CONNACK and a queued QoS 1 message, and holds back the SUBACK. */
async function scriptedBroker() {
  const received: mqttPacket.Packet[] = [];
  let releaseSuback: () => void = () => undefined;
  const server = net.createServer((socket) => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet: mqttPacket.Packet) => {
      received.push(packet);
      if (packet.cmd === 'connect') {
        socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: true }));
        socket.write(
          mqttPacket.generate({
            cmd: 'publish',
            topic: 'fleet/v1/devices/d1/telemetry',
            payload: Buffer.from('{}'),
            qos: 1,
            messageId: 42,
            retain: false,
            dup: false,
          }),
        );
      } else if (packet.cmd === 'subscribe') {
        releaseSuback = () =>
          socket.write(
            mqttPacket.generate({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map(() => 1 as const) }),
          );
      } else if (packet.cmd === 'pingreq') {
        socket.write(mqttPacket.generate({ cmd: 'pingresp' }));
      }
    });
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { port: (server.address() as AddressInfo).port, received, releaseSuback: () => releaseSuback() };
}

const waitUntil = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

describe('broker session', () => {
  it('acknowledges a message committed before its subscriptions were granted', async () => {
    const broker = await scriptedBroker();
    const delivered: SessionMessage[] = [];
    const session = new BrokerSession({
      url: `mqtt://127.0.0.1:${broker.port}`,
      clientId: 'armada-ingest-test',
      subscriptions: ['fleet/v1/devices/+/telemetry'],
      clean: false,
      logger: pino({ level: 'silent' }),
      onMessage: (m) => delivered.push(m),
    });
    sessions.push(session);
    session.start();
    await waitUntil(
      () => delivered.length === 1 && broker.received.some((p) => p.cmd === 'subscribe'),
      'the queued message and the SUBSCRIBE',
    );
    expect(session.isReady).toBe(false);

    // Its batch commits now, before the SUBACK: the PUBACK goes out all the same.
    session.acknowledge(delivered);
    await waitUntil(() => broker.received.some((p) => p.cmd === 'puback'), 'the PUBACK');
    expect(broker.received.filter((p) => p.cmd === 'puback').map((p) => (p as mqttPacket.IPubackPacket).messageId)).toEqual([42]);

    broker.releaseSuback();
    await session.waitReady(2000);
    expect(session.isReady).toBe(true);
  });
});
