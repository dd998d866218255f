/**
 * The live feed, `GET /api/v1/live` upgraded to a WebSocket (the WebSocket contract in
 * docs/api.md). The key is checked before the upgrade like any request (Bearer header; a
 * browser, which cannot set headers on a WebSocket, offers it as the subprotocol
 * `bearer.<key>` beside `armada.v1`, or as `?token=`); a browser's
 * Origin must be the API's own or an allowed one. The client gets a snapshot of the
 * vehicles it may see, then position batches; it may narrow what it gets with
 * `{"type":"subscribe","departmentIds":[…],"vehicleIds":[…]}`.
 *
 * The snapshot comes first, always: the hub holds the client's positions from the moment
 * it is added (and again from each `subscribe`) until the snapshot has been sent, then
 * sends those newer than it.
 *
 * A snapshot is a query of every vehicle's newest position, so a client runs one at a
 * time and starts one at most every `SNAPSHOT_MIN_INTERVAL_MS`: subscribes that come
 * meanwhile are coalesced (the last one wins) into the next snapshot. A snapshot whose
 * query was overtaken by a newer `subscribe` is not sent; the next one is.
 *
 * The key is checked at the upgrade, and the connection ends when the key is revoked:
 * at once on the instance that revoked it (routes/api-keys.ts tells the hub), and within
 * `KEY_RECHECK_EVERY_MS` on the others, which ask the database about their clients' keys.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ForbiddenError, AppError } from '../../errors.js';
import { visible, type ClientFilter } from '../../live/hub.js';
import { ALL_DEPARTMENTS } from '../../repositories/scope.js';
import { DEFAULT_HTTP_LIMITS, type AppDeps } from '../app.js';
import { errorResponse } from '../schemas.js';
import { toLatestPosition } from './positions.js';

/** How often an instance checks that the keys of its open connections are still active (not revoked, not expired). */
export const KEY_RECHECK_EVERY_MS = 60_000;

/** WebSocket close code "try again later". */
const CLOSE_TRY_AGAIN_LATER = 1013;

/** A client's snapshot queries start at least this far apart. */
export const SNAPSHOT_MIN_INTERVAL_MS = 1000;

const subscribeMessage = z.object({
  type: z.literal('subscribe'),
  departmentIds: z.array(z.uuid()).max(1000).optional(),
  vehicleIds: z.array(z.uuid()).max(10_000).optional(),
});

function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (!origin) return true; // not a browser: the key alone decides
  if (allowed.includes(origin) || allowed.includes('*')) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function liveRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const perKey = deps.http?.liveConnectionsPerKey ?? DEFAULT_HTTP_LIMITS.liveConnectionsPerKey;
    const live = deps.live;
    if (live) {
      const recheck = setInterval(() => {
        void live.revalidateKeys(async (keyId) => {
          const key = await deps.repos.apiKeys.findById(ALL_DEPARTMENTS, keyId);
          return key !== undefined && key.revokedAt === null && (key.expiresAt === null || key.expiresAt.getTime() > deps.now().getTime());
        });
      }, KEY_RECHECK_EVERY_MS);
      recheck.unref();
      app.addHook('onClose', async () => clearInterval(recheck));
    }

    app.get(
      '/live',
      {
        websocket: true,
        schema: {
          tags: ['live'],
          summary: 'Live positions over WebSocket (snapshot, then batches)',
          description: 'At most LIVE_MAX_CONNECTIONS_PER_KEY open connections per API key and API instance; one more is answered 429.',
          querystring: z.object({ token: z.string().optional() }),
          response: { 400: errorResponse, 401: errorResponse, 403: errorResponse, 429: errorResponse, 503: errorResponse },
        },
        preHandler: async (request) => {
          if (!originAllowed(request.headers.origin, request.headers.host, deps.allowedOrigins ?? [])) {
            throw new ForbiddenError('This origin may not open the live feed.');
          }
          if (!deps.live) throw new AppError(503, 'live_unavailable', 'This API instance has no broker connection for the live feed.');
          if (deps.live.connectionsOfKey(request.auth.keyId) >= perKey) {
            const message = `This API key has ${perKey} live-feed connections open on this instance already; close one first.`;
            throw new AppError(429, 'too_many_connections', message);
          }
        },
      },
      (socket, request) => {
        const hub = deps.live!;
        const scope = request.auth.departmentId;
        let filter: ClientFilter = { scopeDepartmentId: scope, departmentIds: null, vehicleIds: null };
        // Added waiting for its snapshot: positions committed during the query are held, not sent ahead of it.
        const client = hub.addClient(socket, filter, { keyId: request.auth.keyId });
        // Two upgrades of one key at once may both have passed the check before the upgrade.
        if (hub.connectionsOfKey(request.auth.keyId) > perKey) {
          client.close();
          socket.close(CLOSE_TRY_AGAIN_LATER, 'Too many live-feed connections for this API key.');
          return;
        }
        let open = true;
        /** A snapshot has been asked for (at the start, or by a subscribe) and not yet queried. */
        let wanted = false;
        /** The loop that queries and sends snapshots is running. */
        let running = false;
        let lastQueryAtMs = Number.NEGATIVE_INFINITY;

        const sendSnapshots = async () => {
          try {
            while (wanted && open) {
              const waitMs = lastQueryAtMs + SNAPSHOT_MIN_INTERVAL_MS - performance.now();
              if (waitMs > 0) await sleep(waitMs);
              if (!open) return;
              wanted = false;
              lastQueryAtMs = performance.now();
              const rows = await deps.repos.positions.latest(request.auth);
              // A subscribe during the query: positions of its vehicles may have been dropped
              // before it came, and this query may not have seen them. The next snapshot is sent.
              if (wanted || !open) continue;
              const nowMs = deps.now().getTime();
              const vehicles = rows.filter((r) => visible(filter, r)).map((r) => toLatestPosition(r, nowMs));
              socket.send(JSON.stringify({ type: 'snapshot', vehicles }));
              client.snapshotSent(vehicles);
            }
          } finally {
            running = false;
          }
        };
        const snapshot = () => {
          client.awaitSnapshot();
          wanted = true;
          if (running) return; // coalesced into the running loop's next snapshot
          running = true;
          sendSnapshots().catch((err: Error) => {
            request.log.warn({ err }, 'live snapshot failed; closing the connection');
            // Without its snapshot the client would wait for ever: it reconnects and tries again.
            if (open) socket.close(1011, 'The snapshot could not be read; reconnect.');
          });
        };

        // Listeners first, synchronously: messages that arrive during the snapshot query are not lost.
        const closed = () => {
          open = false;
          client.close();
        };
        socket.on('pong', () => client.alive());
        socket.on('close', closed);
        socket.on('error', closed);
        socket.on('message', (data: Buffer) => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(data.toString('utf8'));
          } catch {
            socket.send(JSON.stringify({ type: 'error', message: 'Messages must be JSON.' }));
            return;
          }
          const message = subscribeMessage.safeParse(parsed);
          if (!message.success) {
            socket.send(
              JSON.stringify({
                type: 'error',
                message: `Unknown or invalid message: ${message.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ')}`,
              }),
            );
            return;
          }
          filter = {
            scopeDepartmentId: scope,
            departmentIds: message.data.departmentIds ? new Set(message.data.departmentIds) : null,
            vehicleIds: message.data.vehicleIds ? new Set(message.data.vehicleIds) : null,
          };
          client.setFilter(filter);
          snapshot();
        });
        snapshot();
      },
    );
  };
}
