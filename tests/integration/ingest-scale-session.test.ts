/**
 * BrokerSession's changing subscriptions, against a private Mosquitto: topics added and
 * removed on a live session, the whole set sent again after a reconnect (here with a
 * clean session, so the broker remembers nothing and only the re-send can bring the
 * topics back), a session with no topics, and forgetting subscriptions an earlier run
 * left in a persistent session.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchBroker, mosquittoAvailable } from '../../bench/mosquitto.js';
import { BrokerSession, SUBSCRIBE_CHUNK, type SessionMessage } from '../../src/ingest/broker-session.js';
import { silentLogger } from '../support/stores.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!mosquittoAvailable())('BrokerSession subscriptions that change', () => {
  let broker: BenchBroker;
  const sessions: BrokerSession[] = [];

  beforeAll(async () => {
    broker = await BenchBroker.start({ maxInflightMessages: 1000, maxQueuedMessages: 100_000, source: 'test' });
  });

  afterAll(async () => {
    for (const s of sessions) await s.close();
    await broker?.stop();
  });

  function open(clientId: string, subscriptions: string[], clean: boolean) {
    const received: SessionMessage[] = [];
    const session = new BrokerSession({
      url: broker.url,
      clientId,
      subscriptions,
      clean,
      logger: silentLogger,
      onMessage: (m) => {
        received.push(m);
        session.acknowledge([m]);
      },
    });
    sessions.push(session);
    session.start();
    return { session, received, topics: () => received.map((m) => m.topic) };
  }

  async function publish(topics: string[]): Promise<void> {
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    for (const t of topics) await client.publishAsync(t, 'x', { qos: 1 });
    await client.endAsync();
  }

  async function until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  it('adds and removes topics on a live session, and sends the whole set again after a reconnect', async () => {
    const { session, topics } = open('scale-session-a', ['t/a'], true);
    await session.waitReady(5000);
    await session.subscribe(['t/b', 't/c']);
    await session.unsubscribe(['t/c']);
    expect(session.subscriptions.sort()).toEqual(['t/a', 't/b']);
    await publish(['t/a', 't/b', 't/c']);
    await until(() => topics().length >= 2, 't/a and t/b');
    await sleep(200);
    expect(topics().sort()).toEqual(['t/a', 't/b']);

    // A clean session: after the drop the broker has forgotten everything; only the re-send helps.
    const readyAgain = new Promise((r) => session.once('ready', r));
    session.reconnect('test');
    await readyAgain;
    await publish(['t/a', 't/b', 't/c']);
    await until(() => topics().length >= 4, 't/a and t/b after the reconnect');
    await sleep(200);
    expect(topics().sort()).toEqual(['t/a', 't/a', 't/b', 't/b']);
  });

  it('subscribes across a reconnect once the next connection is up, also more topics than one SUBSCRIBE packet holds', async () => {
    const { session, topics } = open('scale-session-b', [], true);
    await session.waitReady(5000); // no topics: ready at CONNACK
    const many = Array.from({ length: SUBSCRIBE_CHUNK * 2 + 7 }, (_, i) => `many/${i}`);
    session.reconnect('test');
    await session.subscribe(many); // resolves once the reconnect subscribed to the whole set
    await publish(['many/0', `many/${SUBSCRIBE_CHUNK}`, `many/${many.length - 1}`]);
    await until(() => topics().length >= 3, 'the three topics');
    expect(topics().sort()).toEqual(['many/0', `many/${many.length - 1}`, `many/${SUBSCRIBE_CHUNK}`].sort());
  });

  it('forgets subscriptions a persistent session remembers from an earlier run', async () => {
    const first = open('scale-session-c', ['old/+'], false);
    await first.session.waitReady(5000);
    await first.session.close();
    // The same persistent session, now wanting only new/1: the broker still routes old/+ to it.
    const second = open('scale-session-c', ['new/1'], false);
    await second.session.waitReady(5000);
    await publish(['old/1']);
    await until(() => second.topics().includes('old/1'), 'the remembered subscription');
    await second.session.unsubscribe(['old/+'], { alsoUnknown: true });
    await publish(['old/2', 'new/1']);
    await until(() => second.topics().includes('new/1'), 'new/1');
    await sleep(200);
    expect(second.topics()).toEqual(['old/1', 'new/1']);
  });
});
