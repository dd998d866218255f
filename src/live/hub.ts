/**
 * The live feed's hub: committed positions come in (from the live topics), and each
 * WebSocket client gets the ones its key and its subscription let it see.
 *
 * Every client has its own small state: the newest position per vehicle not yet sent
 * (conflation: a newer position replaces an unsent older one), flushed as one
 * `positions` batch at most `maxBatchesPerSecond` times a second. The limit works on
 * the leading edge: a position for a client that has had no batch for a whole interval
 * goes out at once (with whatever else arrived in the same tick), and only a client
 * that already had one waits for the rest of its interval. A fleet manager watching a
 * few vehicles sees each position as soon as it is committed; a client of a busy fleet
 * gets a batch every interval. A client whose socket still holds more than
 * `maxBufferedBytes` unsent is skipped for that flush and tried again an interval
 * later; its positions keep conflating, so a slow client costs a bounded amount of
 * memory and nothing to the others.
 *
 * A snapshot first, then batches: a client is added waiting for its snapshot, and after
 * every `subscribe` it waits again. Meanwhile its positions are held (and conflate); once
 * the snapshot is sent (`snapshotSent`), those not newer than the snapshot's position of
 * their vehicle are dropped and the rest go out. A client is never sent a position of a
 * vehicle older than one it already has, so a late snapshot cannot roll its map back.
 * Alerts that come while a client waits for its snapshot follow it.
 *
 * Each client remembers the API key it opened with: when that key is revoked, its
 * connections are closed (`closeKey`, told by the revoking instance at once, and
 * `revalidateKeys`, run now and then to catch revocations made on other instances).
 */
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LivePosition } from '../domain/live.js';

/** What the hub needs of a WebSocket (the `ws` package's socket fits). */
export interface LiveSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
  ping(): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

export interface ClientFilter {
  /** The key's department, or null for all. */
  scopeDepartmentId: string | null;
  departmentIds: ReadonlySet<string> | null;
  vehicleIds: ReadonlySet<string> | null;
}

export interface LiveClient {
  setFilter(filter: ClientFilter): void;
  /** A snapshot is on its way: hold this client's positions until it has been sent. */
  awaitSnapshot(): void;
  /** The snapshot was sent with these vehicles' positions: what is held and newer goes out. */
  snapshotSent(vehicles: Iterable<{ vehicleId: string; at: string }>): void;
  /** The socket answered a ping. */
  alive(): void;
  close(): void;
}

const OPEN = 1;
/** WebSocket close code "policy violation": the key may no longer read the feed. */
export const CLOSE_KEY_REVOKED = 1008;
/** Alerts kept for a client while its snapshot is on its way. */
const MAX_HELD_ALERTS = 100;

export interface LiveHubOptions {
  logger: Logger;
  registry?: Registry;
  maxBatchesPerSecond?: number;
  maxBufferedBytes?: number;
  pingEveryMs?: number;
}

export function visible(filter: ClientFilter, p: { departmentId: string; vehicleId: string }): boolean {
  if (filter.scopeDepartmentId && p.departmentId !== filter.scopeDepartmentId) return false;
  if (filter.departmentIds && !filter.departmentIds.has(p.departmentId)) return false;
  if (filter.vehicleIds && !filter.vehicleIds.has(p.vehicleId)) return false;
  return true;
}

export function createLiveHub(options: LiveHubOptions) {
  const flushEveryMs = Math.ceil(1000 / (options.maxBatchesPerSecond ?? 10));
  const maxBufferedBytes = options.maxBufferedBytes ?? 256 * 1024;
  const pingEveryMs = options.pingEveryMs ?? 30_000;
  const registers = options.registry ? [options.registry] : [];
  const metrics = {
    clients: new Gauge({ name: 'armada_live_clients', help: 'Open live-feed WebSocket connections', registers }),
    pushed: new Counter({ name: 'armada_live_positions_pushed_total', help: 'Positions sent to live-feed clients', registers }),
    conflated: new Counter({
      name: 'armada_live_positions_conflated_total',
      help: 'Positions replaced by a newer one of the same vehicle before a client was sent them',
      registers,
    }),
    alerts: new Counter({ name: 'armada_live_alerts_pushed_total', help: 'Alerts sent to live-feed clients', registers }),
    skipped: new Counter({
      name: 'armada_live_flushes_skipped_total',
      help: 'Flushes skipped because a client had too much unsent',
      registers,
    }),
  };

  interface State {
    socket: LiveSocket;
    /** The API key the connection was opened with. */
    keyId: string | undefined;
    filter: ClientFilter;
    pending: Map<string, LivePosition>;
    /** Waiting for its snapshot: positions are held, alerts queued. */
    awaitingSnapshot: boolean;
    heldAlerts: string[];
    /** The newest position time (ms) per vehicle the client has or has pending: nothing older is sent. */
    newestAtMs: Map<string, number>;
    awaitingPong: boolean;
    /** When this client was last sent a batch (performance.now()). */
    lastFlushAtMs: number;
    /** Its next flush, when one is scheduled. */
    scheduled: { cancel(): void } | undefined;
  }
  const clients = new Set<State>();
  let closed = false;

  function flushClient(c: State, force = false): void {
    c.scheduled?.cancel();
    c.scheduled = undefined;
    if (c.awaitingSnapshot || c.pending.size === 0 || c.socket.readyState !== OPEN || !clients.has(c)) return;
    // A timer can fire a few milliseconds early (it counts from the event loop's cached
    // time): the limit is kept to the letter, so wait out the rest of the interval.
    const waitMs = c.lastFlushAtMs + flushEveryMs - performance.now();
    if (!force && waitMs > 0) {
      schedule(c, waitMs);
      return;
    }
    if (c.socket.bufferedAmount > maxBufferedBytes) {
      metrics.skipped.inc();
      // Nothing else may come to wake it: look again an interval later.
      schedule(c, flushEveryMs);
      return;
    }
    const positions = [...c.pending.values()];
    c.pending.clear();
    c.lastFlushAtMs = performance.now();
    c.socket.send(JSON.stringify({ type: 'positions', positions }));
    metrics.pushed.inc(positions.length);
  }

  function schedule(c: State, delayMs: number): void {
    if (closed) return;
    if (delayMs <= 0) {
      // The rest of this tick's positions join the batch.
      const handle = setImmediate(() => flushClient(c));
      c.scheduled = { cancel: () => clearImmediate(handle) };
    } else {
      const handle = setTimeout(() => flushClient(c), delayMs);
      handle.unref();
      c.scheduled = { cancel: () => clearTimeout(handle) };
    }
  }

  /** A client has something to send: now, if its last batch is an interval old, else when it is. */
  function wake(c: State): void {
    if (c.scheduled) return;
    schedule(c, c.lastFlushAtMs + flushEveryMs - performance.now());
  }

  /** Every client with something pending, now (tests; the hub itself flushes per client). */
  function flush(): void {
    for (const c of clients) flushClient(c, true);
  }

  function drop(c: State): void {
    c.scheduled?.cancel();
    c.scheduled = undefined;
    clients.delete(c);
    metrics.clients.set(clients.size);
  }

  /** Closes the connections opened with this key; answers how many. */
  function closeKey(keyId: string): number {
    let count = 0;
    for (const c of clients) {
      if (c.keyId !== keyId) continue;
      drop(c);
      if (c.socket.readyState === OPEN) c.socket.close(CLOSE_KEY_REVOKED, 'The API key has been revoked.');
      else c.socket.terminate();
      count++;
    }
    if (count > 0) options.logger.info({ apiKeyId: keyId, connections: count }, 'live connections of a revoked key closed');
    return count;
  }

  function ping(): void {
    for (const c of clients) {
      if (c.awaitingPong) {
        options.logger.info('live client did not answer a ping; closing');
        drop(c);
        c.socket.terminate();
        continue;
      }
      c.awaitingPong = true;
      if (c.socket.readyState === OPEN) c.socket.ping();
    }
  }

  const pingTimer = setInterval(ping, pingEveryMs);
  pingTimer.unref();

  return {
    /** A committed newest position: queued for every client that may see it. */
    publish(position: LivePosition): void {
      const atMs = Date.parse(position.at);
      for (const c of clients) {
        if (!visible(c.filter, position)) continue;
        // Not newer than what the client has (its snapshot, or a position already sent or pending): dropped.
        if (atMs <= (c.newestAtMs.get(position.vehicleId) ?? Number.NEGATIVE_INFINITY)) continue;
        c.newestAtMs.set(position.vehicleId, atMs);
        if (c.pending.has(position.vehicleId)) metrics.conflated.inc();
        c.pending.set(position.vehicleId, position);
        if (!c.awaitingSnapshot) wake(c);
      }
    },
    /** An alert goes out at once to every client that may see its vehicle: alerts are not conflated. */
    publishAlert(alert: { departmentId: string; vehicleId: string } & Record<string, unknown>): void {
      const message = JSON.stringify({ ...alert, type: 'alert' });
      for (const c of clients) {
        if (!visible(c.filter, alert) || c.socket.readyState !== OPEN) continue;
        if (c.awaitingSnapshot) {
          // A snapshot is a query away; a client flooded with alerts meanwhile keeps the newest.
          if (c.heldAlerts.length >= MAX_HELD_ALERTS) c.heldAlerts.shift();
          c.heldAlerts.push(message);
          continue;
        }
        c.socket.send(message);
        metrics.alerts.inc();
      }
    },
    addClient(socket: LiveSocket, filter: ClientFilter, identity: { keyId?: string } = {}): LiveClient {
      const state: State = {
        socket,
        keyId: identity.keyId,
        filter,
        pending: new Map(),
        awaitingSnapshot: true,
        heldAlerts: [],
        newestAtMs: new Map(),
        awaitingPong: false,
        lastFlushAtMs: Number.NEGATIVE_INFINITY,
        scheduled: undefined,
      };
      clients.add(state);
      metrics.clients.set(clients.size);
      return {
        setFilter(next) {
          state.filter = next;
          for (const [vehicleId, p] of state.pending) if (!visible(next, p)) state.pending.delete(vehicleId);
        },
        awaitSnapshot() {
          state.awaitingSnapshot = true;
          state.scheduled?.cancel();
          state.scheduled = undefined;
        },
        snapshotSent(vehicles) {
          if (!state.awaitingSnapshot) return;
          // The client's map is now the snapshot: it holds nothing else.
          const newest = new Map<string, number>();
          for (const v of vehicles) newest.set(v.vehicleId, Date.parse(v.at));
          for (const [vehicleId, p] of state.pending) {
            const atMs = Date.parse(p.at);
            if (atMs <= (newest.get(vehicleId) ?? Number.NEGATIVE_INFINITY)) state.pending.delete(vehicleId);
            else newest.set(vehicleId, atMs);
          }
          state.newestAtMs = newest;
          state.awaitingSnapshot = false;
          const alerts = state.heldAlerts;
          state.heldAlerts = [];
          if (state.socket.readyState === OPEN) {
            for (const message of alerts) state.socket.send(message);
            metrics.alerts.inc(alerts.length);
          }
          if (state.pending.size > 0) wake(state);
        },
        alive() {
          state.awaitingPong = false;
        },
        close() {
          drop(state);
        },
      };
    },
    closeKey,
    /** Open connections made with this key (the live route caps them per key). */
    connectionsOfKey(keyId: string): number {
      let count = 0;
      for (const c of clients) if (c.keyId === keyId) count++;
      return count;
    },
    /**
     * Asks about every key with an open connection whether it is still active, and closes
     * the connections of those that are not. A key that cannot be checked stays open.
     */
    async revalidateKeys(isActive: (keyId: string) => Promise<boolean>): Promise<void> {
      const keyIds = new Set<string>();
      for (const c of clients) if (c.keyId !== undefined) keyIds.add(c.keyId);
      for (const keyId of keyIds) {
        let active: boolean;
        try {
          active = await isActive(keyId);
        } catch (err) {
          options.logger.warn({ err, apiKeyId: keyId }, 'live feed: could not check a key');
          continue;
        }
        if (!active) closeKey(keyId);
      }
    },
    get clientCount(): number {
      return clients.size;
    },
    /** For tests: flush now instead of at the next tick. */
    flush,
    close(): void {
      closed = true;
      clearInterval(pingTimer);
      for (const c of clients) {
        c.scheduled?.cancel();
        c.socket.terminate();
      }
      clients.clear();
      metrics.clients.set(0);
    },
  };
}
export type LiveHub = ReturnType<typeof createLiveHub>;
