/**
 * The live feed end to end: MQTT in, WebSocket out. Authentication before the
 * upgrade, department scope, subscriptions, and the snapshot-then-batches protocol.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { telemetryTopic } from '../../src/domain/topics.js';
import { loadConfig } from '../../src/config.js';
import { startServices } from '../../src/runtime.js';
import { connectDevice, registerVehicleWithDevice, startTestService, waitFor, type TestService } from '../support/service.js';
import { realBrokerUrl, silentLogger } from '../support/stores.js';

let t: TestService;
let a: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
let b: Awaited<ReturnType<typeof registerVehicleWithDevice>>;
let keyA: string;

type Message = {
  type: string;
  vehicles?: Array<{ vehicleId: string; status: string; at: string }>;
  positions?: Array<{ vehicleId: string; at: string; lat: number }>;
  message?: string;
};

/** A client that records everything it is sent. */
async function openFeed(query: string, headers: Record<string, string> = {}) {
  const url = `${t.services.httpUrl!.replace('http', 'ws')}/api/v1/live${query}`;
  const ws = new WebSocket(url, { headers });
  const messages: Message[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as Message));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return { ws, messages };
}

async function publish(d: { deviceId: string; secret: string }, lat: number, ageMs = 0) {
  const client = await connectDevice(t.deviceMqttUrl, d.deviceId, d.secret);
  const ts = new Date(Date.now() - ageMs).toISOString();
  await client.publishAsync(telemetryTopic(d.deviceId), JSON.stringify({ ts, lat, lon: 123.6, speedKmh: 30, ignition: true }), { qos: 1 });
  await client.endAsync();
  return ts;
}

/**
 * Makes the next snapshot query wait for `release()`, either before it reads (so it sees
 * what is committed meanwhile) or after (so what is committed meanwhile is newer than it).
 * `read` resolves when the query is underway (before) or has read (after).
 */
function delayNextSnapshot(when: 'before' | 'after') {
  const repo = t.services.repos.positions;
  const original = repo.latest;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let signal!: () => void;
  const read = new Promise<void>((r) => (signal = r));
  const delay = { calls: 0, read, release, restore: () => (repo.latest = original) };
  repo.latest = async (...args) => {
    delay.calls++;
    delay.restore();
    if (when === 'before') {
      signal();
      await gate;
    }
    const rows = await original.apply(repo, args);
    if (when === 'after') {
      signal();
      await gate;
    }
    return rows;
  };
  return delay;
}

/**
 * From `from` on: a snapshot first, and after it only positions newer than what the
 * client already has of their vehicle (the snapshot's, or one sent before).
 */
function expectSnapshotThenNewer(messages: Message[], from: number) {
  const rest = messages.slice(from).filter((m) => m.type === 'snapshot' || m.type === 'positions');
  expect(rest[0]?.type).toBe('snapshot');
  const newest = new Map(rest[0]!.vehicles!.map((v) => [v.vehicleId, Date.parse(v.at)]));
  for (const m of rest.slice(1)) {
    expect(m.type).toBe('positions');
    for (const p of m.positions!) {
      expect(Date.parse(p.at), `a position of ${p.vehicleId} not newer than what the client had`).toBeGreaterThan(
        newest.get(p.vehicleId) ?? -Infinity,
      );
      newest.set(p.vehicleId, Date.parse(p.at));
    }
  }
}

/** Publishes a position of `d` and waits until a client that is not held has it: the hub has it too. */
async function publishThrough(observer: Message[], d: { deviceId: string; secret: string }, lat: number) {
  const ts = await publish(d, lat);
  await waitFor(
    async () => observer.some((m) => m.type === 'positions' && m.positions!.some((p) => p.at === ts)),
    'the position at the observer',
  );
  return ts;
}

/** A metric's value (without labels) from /metrics. */
async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${t.services.httpUrl}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!match) throw new Error(`${name} is not in /metrics`);
  return Number(match[1]);
}

beforeAll(async () => {
  t = await startTestService();
  a = await registerVehicleWithDevice(t);
  b = await registerVehicleWithDevice(t);
  await publish(a, -10.171, 5000); // positions below move a metre or so: the jump filter watches
  await publish(b, -10.181, 5000);
  // A real broker acknowledges before the worker commits: wait for both to be stored.
  await waitFor(async () => ((await (await t.api('/api/v1/positions/latest')).json()) as unknown[]).length >= 2, 'both first positions');
  const res = await t.api('/api/v1/api-keys', { method: 'POST', json: { name: 'viewer A', role: 'viewer', departmentId: a.departmentId } });
  keyA = ((await res.json()) as { key: string }).key;
});

afterAll(async () => {
  await t?.close();
});

describe('live feed', () => {
  it('refuses the upgrade without a valid key, and from a foreign browser origin', async () => {
    await expect(openFeed('')).rejects.toThrow('HTTP 401');
    await expect(openFeed('?token=wrong')).rejects.toThrow('HTTP 401');
    await expect(openFeed(`?token=${t.adminKey}`, { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
  });

  it('sends a snapshot, then the positions committed after it', async () => {
    const { ws, messages } = await openFeed('', { authorization: `Bearer ${t.adminKey}` });
    const snapshot = await waitFor(async () => messages.find((m) => m.type === 'snapshot'), 'the snapshot');
    expect(snapshot.vehicles!.map((v) => v.vehicleId)).toEqual(expect.arrayContaining([a.vehicleId, b.vehicleId]));
    const ts = await publish(a, -10.17101);
    const batch = await waitFor(
      async () => messages.find((m) => m.type === 'positions' && m.positions!.some((p) => p.at === ts)),
      'the new position',
    );
    expect(batch.positions!.find((p) => p.at === ts)).toMatchObject({ vehicleId: a.vehicleId, lat: -10.17101 });
    ws.close();
  });

  it("never shows a department-limited key another department's vehicles (token in the query, same origin)", async () => {
    const host = new URL(t.services.httpUrl!).host;
    const { ws, messages } = await openFeed(`?token=${keyA}`, { origin: `http://${host}` });
    const snapshot = await waitFor(async () => messages.find((m) => m.type === 'snapshot'), 'the snapshot');
    expect(snapshot.vehicles!.map((v) => v.vehicleId)).toEqual([a.vehicleId]);
    const tsB = await publish(b, -10.18101);
    const tsA = await publish(a, -10.17102);
    await waitFor(async () => messages.some((m) => m.type === 'positions' && m.positions!.some((p) => p.at === tsA)), "A's position");
    const seen = messages.flatMap((m) => m.positions ?? []);
    expect(seen.some((p) => p.vehicleId === b.vehicleId || p.at === tsB)).toBe(false);
    ws.close();
  });

  it('shows nothing that another deployment on the same broker publishes on the live topics', async () => {
    const { ws, messages } = await openFeed('', { authorization: `Bearer ${t.adminKey}` });
    await waitFor(async () => messages.find((m) => m.type === 'snapshot'), 'the snapshot');
    // Straight onto the live topics, as another Armada's worker would: a department not ours.
    const foreignDepartment = '0b9e4d71-3c2a-4f86-8e15-7a6c2d9f4b20';
    const foreignVehicle = '5d2c8e14-7b3a-4c69-9f20-1e8a6b4c3d57';
    const liveUrl = t.services.broker?.internalUrl ?? t.services.config.mqttUrl!;
    const other = await mqtt.connectAsync(liveUrl, { protocolVersion: 4, reconnectPeriod: 0 });
    const at = new Date().toISOString();
    await other.publishAsync(
      `fleet/v1/live/${foreignDepartment}/${foreignVehicle}`,
      JSON.stringify({
        vehicleId: foreignVehicle,
        departmentId: foreignDepartment,
        deviceId: 'x',
        at,
        lat: -10.2,
        lon: 123.6,
        speedKmh: 10,
        headingDeg: 0,
        fuelLitres: null,
        fuelPercent: null,
        ignition: true,
        batteryV: null,
      }),
    );
    await other.endAsync();
    // Ours still arrive, after it: once ours is here, theirs would have been too.
    const ts = await publish(a, -10.17104);
    await waitFor(async () => messages.some((m) => m.type === 'positions' && m.positions!.some((p) => p.at === ts)), 'our position');
    expect(messages.flatMap((m) => m.positions ?? []).some((p) => p.vehicleId === foreignVehicle)).toBe(false);
    ws.close();
  });

  it('narrows to a subscription, and answers a bad message with an error', async () => {
    const { ws, messages } = await openFeed('', { authorization: `Bearer ${t.adminKey}` });
    await waitFor(async () => messages.find((m) => m.type === 'snapshot'), 'the first snapshot');
    ws.send(JSON.stringify({ type: 'subscribe', vehicleIds: [b.vehicleId] }));
    const second = await waitFor(async () => messages.filter((m) => m.type === 'snapshot')[1], 'the second snapshot');
    expect(second.vehicles!.map((v) => v.vehicleId)).toEqual([b.vehicleId]);
    const tsA = await publish(a, -10.17103);
    const tsB = await publish(b, -10.18102);
    await waitFor(async () => messages.some((m) => m.type === 'positions' && m.positions!.some((p) => p.at === tsB)), "B's position");
    expect(messages.flatMap((m) => m.positions ?? []).some((p) => p.at === tsA)).toBe(false);
    ws.send('not json');
    ws.send(JSON.stringify({ type: 'subscribe', vehicleIds: ['not-a-uuid'] }));
    await waitFor(async () => messages.filter((m) => m.type === 'error').length === 2, 'two errors');
    expect(messages.filter((m) => m.type === 'error').map((m) => m.message)).toEqual([
      expect.stringContaining('JSON'),
      expect.stringContaining('vehicleIds'),
    ]);
    ws.close();
  });

  it.each(['after', 'before'] as const)(
    'sends the snapshot before any position, even one committed while the snapshot is read (query held %s reading)',
    async (when) => {
      const observer = await openFeed('', { authorization: `Bearer ${t.adminKey}` });
      await waitFor(async () => observer.messages.find((m) => m.type === 'snapshot'), "the observer's snapshot");
      const delay = delayNextSnapshot(when);
      const { ws, messages } = await openFeed('', { authorization: `Bearer ${t.adminKey}` });
      await delay.read;
      const held = await publishThrough(observer.messages, a, when === 'after' ? -10.17105 : -10.17106);
      delay.release();
      const snapshot = await waitFor(async () => messages.find((m) => m.type === 'snapshot'), 'the snapshot');
      const aInSnapshot = snapshot.vehicles!.find((v) => v.vehicleId === a.vehicleId)!;
      // Read after the commit, the snapshot has it; read before, the position follows the snapshot.
      if (when === 'before') expect(aInSnapshot.at).toBe(held);
      else
        await waitFor(
          async () => messages.some((m) => m.type === 'positions' && m.positions!.some((p) => p.at === held)),
          'the held position',
        );
      const next = await publishThrough(messages, a, when === 'after' ? -10.17107 : -10.17108);
      expectSnapshotThenNewer(messages, 0);
      expect(messages.flatMap((m) => m.positions ?? []).map((p) => p.at)).toEqual(when === 'after' ? [held, next] : [next]);
      ws.close();
      observer.ws.close();
    },
  );

  it('sends the snapshot of a subscribe before any position of the new subscription', async () => {
    const observer = await openFeed('', { authorization: `Bearer ${t.adminKey}` });
    await waitFor(async () => observer.messages.find((m) => m.type === 'snapshot'), "the observer's snapshot");
    const { ws, messages } = await openFeed('', { authorization: `Bearer ${t.adminKey}` });
    await waitFor(async () => messages.find((m) => m.type === 'snapshot'), 'the first snapshot');
    const delay = delayNextSnapshot('after');
    const from = messages.length;
    ws.send(JSON.stringify({ type: 'subscribe', vehicleIds: [a.vehicleId] }));
    await delay.read;
    const held = await publishThrough(observer.messages, a, -10.17109);
    delay.release();
    await waitFor(async () => messages.some((m) => m.type === 'positions' && m.positions!.some((p) => p.at === held)), 'the held position');
    expectSnapshotThenNewer(messages, from);
    expect(
      messages
        .slice(from)
        .find((m) => m.type === 'snapshot')!
        .vehicles!.map((v) => v.vehicleId),
    ).toEqual([a.vehicleId]);
    ws.close();
    observer.ws.close();
  });

  it('coalesces a burst of subscribes into few snapshot queries, the last subscription winning', async () => {
    const { ws, messages } = await openFeed('', { authorization: `Bearer ${t.adminKey}` });
    await waitFor(async () => messages.find((m) => m.type === 'snapshot'), 'the first snapshot');
    const repo = t.services.repos.positions;
    const original = repo.latest;
    let queries = 0;
    repo.latest = async (...args) => {
      queries++;
      return original.apply(repo, args);
    };
    try {
      const from = messages.length;
      for (let i = 0; i < 10; i++) ws.send(JSON.stringify({ type: 'subscribe', vehicleIds: [i % 2 ? b.vehicleId : a.vehicleId] }));
      ws.send(JSON.stringify({ type: 'subscribe', vehicleIds: [b.vehicleId] }));
      await waitFor(
        async () =>
          messages.slice(from).some((m) => m.type === 'snapshot' && m.vehicles!.length === 1 && m.vehicles![0]!.vehicleId === b.vehicleId),
        "the last subscription's snapshot",
      );
      await new Promise((r) => setTimeout(r, 300)); // room for any query still to come
      // Eleven subscribes: one snapshot query, two if the burst straddled one.
      expect(queries).toBeLessThanOrEqual(2);
      const snapshots = messages.slice(from).filter((m) => m.type === 'snapshot');
      expect(snapshots.at(-1)!.vehicles!.map((v) => v.vehicleId)).toEqual([b.vehicleId]);
      expect(snapshots.length).toBeLessThanOrEqual(2);
    } finally {
      repo.latest = original;
      ws.close();
    }
  });

  it('counts open live clients in /metrics', async () => {
    // The other tests' clients are closed (or closing): the gauge follows the open ones.
    await waitFor(async () => (await metric('armada_live_clients')) === 0, 'no live clients');
    const feeds = await Promise.all([1, 2, 3].map(() => openFeed('', { authorization: `Bearer ${t.adminKey}` })));
    await waitFor(async () => (await metric('armada_live_clients')) === 3, 'three live clients');
    feeds[0]!.ws.close();
    await waitFor(async () => (await metric('armada_live_clients')) === 2, 'two live clients');
    for (const f of feeds.slice(1)) f.ws.close();
    await waitFor(async () => (await metric('armada_live_clients')) === 0, 'no live clients again');
  });

  it('counts positions conflated for a client, and pushed, in /metrics', async () => {
    const observer = await openFeed('', { authorization: `Bearer ${t.adminKey}` });
    await waitFor(async () => observer.messages.find((m) => m.type === 'snapshot'), "the observer's snapshot");
    // A client waiting for its snapshot holds its positions: two of one vehicle conflate.
    const delay = delayNextSnapshot('after');
    const { ws, messages } = await openFeed('', { authorization: `Bearer ${t.adminKey}` });
    await delay.read;
    const before = await metric('armada_live_positions_conflated_total');
    const pushedBefore = await metric('armada_live_positions_pushed_total');
    await publishThrough(observer.messages, a, -10.1711);
    const newest = await publishThrough(observer.messages, a, -10.17111);
    expect(await metric('armada_live_positions_conflated_total')).toBeGreaterThanOrEqual(before + 1);
    delay.release();
    await waitFor(
      async () => messages.some((m) => m.type === 'positions' && m.positions!.some((p) => p.at === newest)),
      'the newest position',
    );
    expect(messages.flatMap((m) => m.positions ?? []).map((p) => p.at)).toEqual([newest]);
    expect(await metric('armada_live_positions_pushed_total')).toBeGreaterThanOrEqual(pushedBefore + 3); // 2 to the observer, 1 to the client
    ws.close();
    observer.ws.close();
  });

  it("closes a key's open connections when the key is revoked, and only that key's", async () => {
    const created = (await (await t.api('/api/v1/api-keys', { method: 'POST', json: { name: 'to revoke', role: 'viewer' } })).json()) as {
      id: string;
      key: string;
    };
    const doomed = await Promise.all([1, 2].map(() => openFeed('', { authorization: `Bearer ${created.key}` })));
    const other = await openFeed('', { authorization: `Bearer ${t.adminKey}` });
    for (const f of [...doomed, other]) await waitFor(async () => f.messages.find((m) => m.type === 'snapshot'), 'the snapshot');
    const closes = doomed.map(
      (f) =>
        new Promise<{ code: number; reason: string }>((resolve) =>
          f.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
        ),
    );
    expect((await t.api(`/api/v1/api-keys/${created.id}/revoke`, { method: 'POST' })).status).toBe(200);
    // Promptly: the waitFor-sized limit, not the minute the other instances take.
    const closed = await Promise.race([Promise.all(closes), new Promise<'open'>((r) => setTimeout(() => r('open'), 10_000))]);
    expect(closed).toEqual([
      { code: 1008, reason: expect.stringContaining('revoked') },
      { code: 1008, reason: expect.stringContaining('revoked') },
    ]);
    expect(other.ws.readyState).toBe(WebSocket.OPEN);
    // And the key cannot open a new one.
    await expect(openFeed('', { authorization: `Bearer ${created.key}` })).rejects.toThrow('HTTP 401');
    other.ws.close();
  });

  it.skipIf(!realBrokerUrl())('serves the same positions from a second API instance (each listens to the live topics)', async () => {
    const second = await startServices(
      loadConfig({ HTTP_PORT: '0', MQTT_URL: realBrokerUrl()!, RATE_LIMIT_PER_MINUTE: '100000' }),
      { api: true, worker: false },
      { logger: silentLogger, database: t.services.database },
    );
    try {
      const ws = new WebSocket(`${second.httpUrl!.replace('http', 'ws')}/api/v1/live`, {
        headers: { authorization: `Bearer ${t.adminKey}` },
      });
      const messages: Message[] = [];
      ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as Message));
      await new Promise((r) => ws.once('open', r));
      await waitFor(async () => messages.find((m) => m.type === 'snapshot'), 'the snapshot from the second instance');
      const ts = await publish(a, -10.17104);
      await waitFor(
        async () => messages.some((m) => m.type === 'positions' && m.positions!.some((p) => p.at === ts)),
        'the position through the second instance',
      );
      ws.close();
    } finally {
      await second.close();
    }
  });
});
