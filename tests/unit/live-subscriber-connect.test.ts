/**
 * The live subscriber against a broker that is reachable but too busy to answer CONNECT
 * (the embedded broker right after a restart, while every device reconnects): it asks
 * again instead of failing the process's start. The broker here is aedes behind a TCP
 * proxy held frozen, so the first CONNECT goes unanswered.
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiveHub } from '../../src/live/hub.js';
import { startLiveSubscriber } from '../../src/live/subscriber.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function brokerBehindProxy() {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy = new TcpProxy('127.0.0.1', (server.address() as net.AddressInfo).port);
  await proxy.start();
  cleanups.push(async () => {
    await proxy.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  });
  return proxy;
}

describe('the live subscriber connecting to a busy broker', () => {
  it('asks again when CONNECT goes unanswered, and then subscribes', async () => {
    const proxy = await brokerBehindProxy();
    proxy.freeze();
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    setTimeout(() => proxy.thaw(), 700);
    const subscriber = await startLiveSubscriber({
      url: `mqtt://127.0.0.1:${proxy.port}`,
      hub: createLiveHub({ logger }),
      logger,
      connectTimeoutMs: 400,
    });
    cleanups.push(() => subscriber.close());
    expect(subscriber.isConnected()).toBe(true);
    expect(warnings.join('\n')).toMatch(/did not answer CONNECT in time/);
  });

  it('still fails the start at once when nothing listens', async () => {
    const proxy = await brokerBehindProxy();
    await proxy.down();
    await expect(
      startLiveSubscriber({
        url: `mqtt://127.0.0.1:${proxy.port}`,
        hub: createLiveHub({ logger: pino({ level: 'silent' }) }),
        logger: pino({ level: 'silent' }),
        connectTimeoutMs: 400,
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
