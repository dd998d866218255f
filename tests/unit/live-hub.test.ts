import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createLiveHub, type ClientFilter, type LiveHub, type LiveSocket } from '../../src/live/hub.js';
import type { LivePosition } from '../../src/domain/live.js';

class FakeSocket implements LiveSocket {
  bufferedAmount = 0;
  readyState = 1;
  sent: string[] = [];
  sentAtMs: number[] = [];
  send(data: string) {
    this.sent.push(data);
    this.sentAtMs.push(performance.now());
  }
  ping() {}
  terminate() {
    this.readyState = 3;
  }
  closedWith: number | undefined;
  close(code?: number) {
    this.closedWith = code;
    this.readyState = 2;
  }
}

const position = (vehicleId: string, departmentId: string, at: number): LivePosition => ({
  vehicleId,
  departmentId,
  deviceId: 'd',
  at: new Date(at).toISOString(),
  lat: -10.17,
  lon: 123.6,
  speedKmh: 10,
  headingDeg: null,
  fuelLitres: null,
  fuelPercent: null,
  ignition: true,
  batteryV: null,
});

const everything: ClientFilter = { scopeDepartmentId: null, departmentIds: null, vehicleIds: null };

/** A client whose (empty) snapshot has been sent, as the route does before any batch. */
function addReady(hub: LiveHub, socket: LiveSocket, filter: ClientFilter = everything) {
  const client = hub.addClient(socket, filter);
  client.snapshotSent([]);
  return client;
}

const types = (socket: FakeSocket) => socket.sent.map((m) => (JSON.parse(m) as { type: string }).type);
const sentPositions = (socket: FakeSocket) =>
  socket.sent.flatMap((m) => (JSON.parse(m) as { positions?: LivePosition[] }).positions ?? []).map((p) => [p.vehicleId, p.at]);

describe('live hub', () => {
  it('sends each client the newest position per vehicle, in one batch per flush', () => {
    const hub = createLiveHub({ logger: pino({ level: 'silent' }) });
    const socket = new FakeSocket();
    addReady(hub, socket);
    for (let i = 0; i < 5; i++) hub.publish(position('v1', 'd1', i * 1000));
    hub.publish(position('v2', 'd1', 0));
    hub.flush();
    expect(socket.sent).toHaveLength(1);
    const batch = JSON.parse(socket.sent[0]!) as { type: string; positions: LivePosition[] };
    expect(batch.type).toBe('positions');
    expect(batch.positions.map((p) => [p.vehicleId, p.at])).toEqual([
      ['v1', new Date(4000).toISOString()],
      ['v2', new Date(0).toISOString()],
    ]);
    hub.close();
  });

  it('holds a slow client to one pending position per vehicle and spares the others', () => {
    const hub = createLiveHub({ logger: pino({ level: 'silent' }), maxBufferedBytes: 1000 });
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    slow.bufferedAmount = 10_000;
    addReady(hub, slow);
    addReady(hub, fast);
    for (let round = 0; round < 100; round++) {
      for (let v = 0; v < 10; v++) hub.publish(position(`v${v}`, 'd1', round * 1000));
      hub.flush();
    }
    expect(slow.sent).toHaveLength(0);
    expect(fast.sent).toHaveLength(100);
    slow.bufferedAmount = 0;
    hub.flush();
    const caughtUp = JSON.parse(slow.sent[0]!) as { positions: LivePosition[] };
    expect(caughtUp.positions).toHaveLength(10);
    expect(caughtUp.positions.every((p) => p.at === new Date(99_000).toISOString())).toBe(true);
    hub.close();
  });

  it('keeps a department-limited client to its department, whatever it subscribes to', () => {
    const hub = createLiveHub({ logger: pino({ level: 'silent' }) });
    const socket = new FakeSocket();
    const client = addReady(hub, socket, { scopeDepartmentId: 'd1', departmentIds: null, vehicleIds: null });
    client.setFilter({ scopeDepartmentId: 'd1', departmentIds: new Set(['d2']), vehicleIds: null });
    hub.publish(position('v9', 'd2', 0));
    hub.flush();
    expect(socket.sent).toHaveLength(0);
    hub.close();
  });

  it('sends a position to a client that has had nothing for an interval at once, and the next only an interval later', async () => {
    // Two batches a second: a 500 ms interval, long beside any scheduling delay.
    const hub = createLiveHub({ logger: pino({ level: 'silent' }), maxBatchesPerSecond: 2 });
    const socket = new FakeSocket();
    addReady(hub, socket);
    const publishedAt = performance.now();
    hub.publish(position('v1', 'd1', 0));
    hub.publish(position('v2', 'd1', 0)); // same tick: same batch
    await new Promise((r) => setTimeout(r, 150));
    expect(socket.sent).toHaveLength(1);
    expect((JSON.parse(socket.sent[0]!) as { positions: unknown[] }).positions).toHaveLength(2);
    expect(socket.sentAtMs[0]! - publishedAt).toBeLessThan(150);
    hub.publish(position('v1', 'd1', 1000));
    await new Promise((r) => setTimeout(r, 150));
    expect(socket.sent).toHaveLength(1); // within the interval: it waits
    await new Promise((r) => setTimeout(r, 450));
    expect(socket.sent).toHaveLength(2);
    expect(socket.sentAtMs[1]! - socket.sentAtMs[0]!).toBeGreaterThanOrEqual(495);
    hub.close();
  });

  it('never sends a client more than maxBatchesPerSecond batches, however fast positions come', async () => {
    const hub = createLiveHub({ logger: pino({ level: 'silent' }), maxBatchesPerSecond: 10 });
    const socket = new FakeSocket();
    addReady(hub, socket);
    const startedAt = performance.now();
    for (let i = 0; i < 120; i++) {
      hub.publish(position(`v${i % 7}`, 'd1', i));
      await new Promise((r) => setTimeout(r, 5));
    }
    const elapsedMs = performance.now() - startedAt;
    await new Promise((r) => setTimeout(r, 150)); // the last batch
    expect(socket.sent.length).toBeGreaterThanOrEqual(3);
    expect(socket.sent.length).toBeLessThanOrEqual(Math.floor(elapsedMs / 100) + 2);
    // Never a batch inside the interval, even when a timer fires early (1 ms for the encoding between the clock and send).
    for (let i = 1; i < socket.sentAtMs.length; i++) expect(socket.sentAtMs[i]! - socket.sentAtMs[i - 1]!).toBeGreaterThanOrEqual(99);
    // Nothing is lost on the way: the newest of every vehicle arrived.
    const last = new Map<string, string>();
    for (const batch of socket.sent)
      for (const p of (JSON.parse(batch) as { positions: LivePosition[] }).positions) last.set(p.vehicleId, p.at);
    expect(last.get('v0')).toBe(new Date(119).toISOString());
    hub.close();
  });

  it('tries a client skipped for its backlog again by itself, without a new position to wake it', async () => {
    const hub = createLiveHub({ logger: pino({ level: 'silent' }), maxBufferedBytes: 1000 });
    const socket = new FakeSocket();
    socket.bufferedAmount = 10_000;
    addReady(hub, socket);
    hub.publish(position('v1', 'd1', 0));
    await new Promise((r) => setTimeout(r, 20));
    expect(socket.sent).toHaveLength(0);
    socket.bufferedAmount = 0;
    await new Promise((r) => setTimeout(r, 150));
    expect(socket.sent).toHaveLength(1);
    hub.close();
  });

  it("holds a new client's positions until its snapshot is sent, then sends only those newer than the snapshot", async () => {
    const hub = createLiveHub({ logger: pino({ level: 'silent' }) });
    const socket = new FakeSocket();
    const client = hub.addClient(socket, everything);
    // Committed while the snapshot query runs.
    hub.publish(position('v1', 'd1', 1000));
    hub.publish(position('v2', 'd1', 5000));
    hub.publishAlert({ type: 'speeding', vehicleId: 'v1', departmentId: 'd1' });
    hub.flush();
    await new Promise((r) => setTimeout(r, 30));
    expect(socket.sent).toHaveLength(0);
    // The snapshot read v1 after its position (2000) and v2 before its (4000).
    socket.send(JSON.stringify({ type: 'snapshot' }));
    client.snapshotSent([
      { vehicleId: 'v1', at: new Date(2000).toISOString() },
      { vehicleId: 'v2', at: new Date(4000).toISOString() },
    ]);
    await new Promise((r) => setTimeout(r, 30));
    expect(types(socket)).toEqual(['snapshot', 'alert', 'positions']);
    expect(sentPositions(socket)).toEqual([['v2', new Date(5000).toISOString()]]);
    // A late position older than the snapshot's never follows it.
    hub.publish(position('v1', 'd1', 1500));
    hub.flush();
    expect(sentPositions(socket)).toEqual([['v2', new Date(5000).toISOString()]]);
    hub.publish(position('v1', 'd1', 3000));
    hub.flush();
    expect(sentPositions(socket)).toEqual([
      ['v2', new Date(5000).toISOString()],
      ['v1', new Date(3000).toISOString()],
    ]);
    hub.close();
  });

  it('holds positions again from a subscribe until its snapshot is sent', async () => {
    const hub = createLiveHub({ logger: pino({ level: 'silent' }) });
    const socket = new FakeSocket();
    const client = addReady(hub, socket);
    client.setFilter({ scopeDepartmentId: null, departmentIds: null, vehicleIds: new Set(['v1']) });
    client.awaitSnapshot();
    hub.publish(position('v1', 'd1', 1000));
    hub.publish(position('v1', 'd1', 2000)); // conflated while held
    await new Promise((r) => setTimeout(r, 30));
    expect(socket.sent).toHaveLength(0);
    socket.send(JSON.stringify({ type: 'snapshot' }));
    client.snapshotSent([{ vehicleId: 'v1', at: new Date(1000).toISOString() }]);
    await new Promise((r) => setTimeout(r, 30));
    expect(types(socket)).toEqual(['snapshot', 'positions']);
    expect(sentPositions(socket)).toEqual([['v1', new Date(2000).toISOString()]]);
    hub.close();
  });

  it('terminates a client that does not answer pings, and keeps one that does', async () => {
    const hub = createLiveHub({ logger: pino({ level: 'silent' }), pingEveryMs: 40 });
    const silent = new FakeSocket();
    const answering = new (class extends FakeSocket {
      pings = 0;
      override ping() {
        this.pings++;
        setImmediate(() => client.alive()); // the pong comes back a moment later
      }
    })();
    addReady(hub, silent);
    const client = addReady(hub, answering);
    // Pinged at the first tick, found silent at the next: gone after two intervals or so.
    const deadline = performance.now() + 5000;
    while (silent.readyState !== 3 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(silent.readyState).toBe(3);
    expect(hub.clientCount).toBe(1);
    // Several more pings, each answered: still there.
    const pingsSoFar = answering.pings;
    while (answering.pings < pingsSoFar + 5 && performance.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 20));
    expect(answering.pings).toBeGreaterThanOrEqual(pingsSoFar + 5);
    expect(answering.readyState).toBe(1);
    expect(hub.clientCount).toBe(1);
    hub.close();
  });

  it('counts conflated positions and open clients in its metrics', async () => {
    const registry = new Registry();
    const hub = createLiveHub({ logger: pino({ level: 'silent' }), registry });
    const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;
    const one = new FakeSocket();
    addReady(hub, one);
    const two = addReady(hub, new FakeSocket());
    expect(await value('armada_live_clients')).toBe(2);
    for (let i = 0; i < 5; i++) hub.publish(position('v1', 'd1', i * 1000)); // four replaced, for each of two clients
    hub.flush();
    expect(await value('armada_live_positions_conflated_total')).toBe(8);
    expect(await value('armada_live_positions_pushed_total')).toBe(2);
    two.close();
    expect(await value('armada_live_clients')).toBe(1);
    hub.close();
  });

  it("closes a revoked key's connections, told at once or when it checks the keys", async () => {
    const hub = createLiveHub({ logger: pino({ level: 'silent' }) });
    const [a1, a2, b, c] = [new FakeSocket(), new FakeSocket(), new FakeSocket(), new FakeSocket()];
    for (const [socket, keyId] of [
      [a1, 'ka'],
      [a2, 'ka'],
      [b, 'kb'],
      [c, 'kc'],
    ] as const)
      hub.addClient(socket, everything, { keyId }).snapshotSent([]);
    expect(hub.closeKey('ka')).toBe(2);
    expect([a1.closedWith, a2.closedWith, b.closedWith]).toEqual([1008, 1008, undefined]);
    hub.publish(position('v1', 'd1', 0));
    hub.flush();
    expect([a1.sent, a2.sent]).toEqual([[], []]); // nothing more for them
    expect(b.sent).toHaveLength(1);
    // Revoked on another instance: found when the keys are checked; a key that cannot be checked stays.
    const asked: string[] = [];
    await hub.revalidateKeys(async (keyId) => {
      asked.push(keyId);
      if (keyId === 'kc') throw new Error('database away');
      return keyId !== 'kb';
    });
    expect(asked.sort()).toEqual(['kb', 'kc']);
    expect(b.closedWith).toBe(1008);
    expect(c.readyState).toBe(1);
    expect(hub.clientCount).toBe(1);
    hub.close();
  });
});
