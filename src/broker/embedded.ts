/**
 * The embedded MQTT broker (aedes) for the zero-setup mode: devices connect with
 * username = device id (an OwnTracks phone may use the user part alone) and password =
 * device secret, and may publish only to their own telemetry topic. Armada's own processes (ingest worker, API) connect with an
 * internal credential made fresh for each run and never leave this process.
 */
import net from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { deviceFromTopic, ownTracksTopic, ownTracksUsername, telemetryTopic } from '../domain/topics.js';
import type { RawMessage } from '../ingest/pipeline.js';
import type { DeviceIdentity } from '../domain/ingest-types.js';
import { verifyDeviceSecret } from '../security/secrets.js';
import { DEFAULT_EMBEDDED_LIMITS, guardPacketSize, LoginThrottle, type EmbeddedBrokerLimits } from './limits.js';

export { DEFAULT_EMBEDDED_LIMITS, type EmbeddedBrokerLimits };

export const INTERNAL_USERNAME = 'armada-internal';

/** A device and the user name it came in with (an OwnTracks phone may use its user part). */
type Identity = { kind: 'internal' } | { kind: 'device'; device: DeviceIdentity; username: string };

export interface EmbeddedBroker {
  readonly port: number;
  /** Closes every connection a device has open, e.g. after its secret changed. */
  disconnectDevice(deviceId: string): number;
  /** Publishes from inside the process (QoS 0), e.g. live positions. */
  publish(topic: string, payload: string): void;
  /** The URL Armada's own clients use, with the internal credential in it. */
  readonly internalUrl: string;
  close(): Promise<void>;
}

export class PortInUseError extends Error {
  constructor(
    readonly variable: string,
    readonly port: number,
    hint: string,
  ) {
    super(`Port ${port} (${variable}) is already in use. ${hint}`);
    this.name = 'PortInUseError';
  }
}

/** Client ids of Armada's own MQTT clients: a device using one would take over that client's session. */
const RESERVED_CLIENT_ID = /^armada-(ingest|api)-/;
/** The connection cap's log line is repeated at most this often. */
const CAP_LOG_EVERY_MS = 60_000;

function authError(message: string, returnCode: 2 | 3 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function startEmbeddedBroker(options: {
  host: string;
  port: number;
  logger: Logger;
  /** The device an MQTT user name stands for (its id, or an OwnTracks phone's user part). */
  findDevice: (username: string) => Promise<DeviceIdentity | undefined>;
  /**
   * Takes a telemetry message and resolves once it is committed. The device's PUBACK
   * waits for it (aedes acknowledges only after authorizePublish answers), so a device
   * never hears "received" for data that is not yet stored. A rejection closes the
   * device's connection; its client sends the message again after reconnecting.
   */
  ingest?: (message: RawMessage) => Promise<void>;
  limits?: Partial<EmbeddedBrokerLimits>;
}): Promise<EmbeddedBroker> {
  const { logger } = options;
  const limits = { ...DEFAULT_EMBEDDED_LIMITS, ...options.limits };
  const throttle = new LoginThrottle(limits.authFailuresPerMinute);
  let capLoggedAtMs = -Infinity;
  const internalPassword = randomBytes(24).toString('base64url');
  const identities = new WeakMap<Client, Identity>();
  const lastKnown = new Map<string, DeviceIdentity>();
  /** Open connections per device, so a rotated secret can end them. */
  const connections = new Map<string, Set<Client>>();

  function track(deviceId: string, client: Client): void {
    let open = connections.get(deviceId);
    if (!open) connections.set(deviceId, (open = new Set()));
    open.add(client);
  }

  const broker = await Aedes.createBroker({
    // No limit on publishes in delivery at once. With aedes' default (100), a publish
    // beyond it waits in mqemitter's queue, and the queue is drained by recursion: when
    // a commit released thousands of device PUBACKs behind a few hundred live positions,
    // the acknowledgements stalled, then the stack overflowed (5,000 devices). Each
    // device's publishes are already bounded by the commit they wait for.
    concurrency: 0,
    connectTimeout: limits.connectTimeoutMs,
    authenticate(client, username, password, done) {
      const address = client.conn && 'remoteAddress' in client.conn ? String(client.conn.remoteAddress) : 'unknown';
      const refuse = (message: string, returnCode: 2 | 4 | 5) => {
        if (throttle.failed(address)) {
          const fields = { address, perMinute: limits.authFailuresPerMinute };
          logger.warn(fields, 'mqtt logins from this address refused for a minute: too many failed');
        }
        done(authError(message, returnCode), false);
      };
      if (username === INTERNAL_USERNAME) {
        // Checked before the throttle: Armada's own clients share 127.0.0.1 with whoever else connects from there.
        const given = Buffer.from(password ?? '');
        const expected = Buffer.from(internalPassword);
        const ok = given.length === expected.length && timingSafeEqual(given, expected);
        if (!ok) return refuse('bad username or password', 4);
        identities.set(client, { kind: 'internal' });
        done(null, true);
        return;
      }
      if (!throttle.allowed(address)) {
        done(authError('too many failed logins from this address', 5), false);
        return;
      }
      if (!username || !password) {
        refuse('username and password are required', 4);
        return;
      }
      if (RESERVED_CLIENT_ID.test(client.id)) {
        const fields = { deviceId: username.slice(0, 64), clientId: client.id.slice(0, 64) };
        logger.info(fields, "mqtt device refused: client id reserved for Armada's own clients");
        refuse('client id reserved for the service', 2);
        return;
      }
      if (broker.connectedClients >= limits.maxConnections) {
        const now = Date.now();
        if (now - capLoggedAtMs >= CAP_LOG_EVERY_MS) {
          capLoggedAtMs = now;
          logger.warn(
            { connected: broker.connectedClients, maxConnections: limits.maxConnections },
            'embedded mqtt broker full: device connections refused (CONNACK 3, server unavailable). ' +
              'The embedded broker is for small fleets: for more devices run Mosquitto and set MQTT_URL (docs/deployment.md), ' +
              'or raise MQTT_MAX_CONNECTIONS',
          );
        }
        done(authError('server unavailable: connection limit reached', 3), false);
        return;
      }
      options
        .findDevice(username)
        .then((device) => {
          if (!device || !verifyDeviceSecret(password.toString('utf8'), device.secretHash)) {
            logger.info({ deviceId: username.slice(0, 64) }, 'mqtt device refused: bad id or secret');
            refuse('bad username or password', 4);
            return;
          }
          if (!device.active) {
            // Accepted so its messages reach quarantine with the reason, as the contract says.
            logger.info({ deviceId: device.id }, 'deactivated device connected');
          }
          identities.set(client, { kind: 'device', device, username });
          lastKnown.set(username, device);
          track(device.id, client);
          done(null, true);
        })
        .catch((err: Error) => {
          // The database is away. A device seen before may still come in on what we knew
          // of it: its messages wait for the database anyway, held without a PUBACK.
          const known = lastKnown.get(username);
          if (known && verifyDeviceSecret(password.toString('utf8'), known.secretHash)) {
            logger.warn({ err: err.message, deviceId: known.id }, 'device lookup failed; authenticated from the last known record');
            identities.set(client, { kind: 'device', device: known, username });
            track(known.id, client);
            done(null, true);
            return;
          }
          logger.error({ err: err.message }, 'device lookup failed during mqtt authentication');
          done(authError('server unavailable', 3), false);
        });
    },
    authorizePublish(client, packet, done) {
      const identity = client ? identities.get(client) : undefined;
      if (!identity) return done(new Error('not authenticated'));
      if (identity.kind === 'device' && !mayPublish(identity.device, identity.username, packet.topic)) {
        logger.info(
          { deviceId: identity.device.id, topic: packet.topic.slice(0, 200) },
          "mqtt publish refused: not the device's own topic",
        );
        return done(new Error('devices may publish only to their own telemetry topic'));
      }
      // Whatever a device may publish goes to ingest, which stores it or quarantines it with a reason.
      if (!options.ingest || (identity.kind === 'internal' && !deviceFromTopic(packet.topic))) return done(null);
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      options.ingest({ topic: packet.topic, payload, receivedAtMs: Date.now() }).then(
        () => done(null),
        (err: Error) => done(err),
      );
    },
    authorizeSubscribe(client, subscription, done) {
      const identity = identities.get(client);
      if (identity?.kind === 'internal') return done(null, subscription);
      // A null subscription answers SUBACK 0x80 (refused) and keeps the device connected.
      logger.info(
        { deviceId: identity?.kind === 'device' ? identity.device.id : undefined, topic: subscription.topic.slice(0, 200) },
        'mqtt subscribe refused: devices may not subscribe',
      );
      done(null, null);
    },
  });

  broker.on('clientDisconnect', (client) => {
    const identity = identities.get(client);
    if (identity?.kind !== 'device') return;
    const open = connections.get(identity.device.id);
    open?.delete(client);
    if (open?.size === 0) connections.delete(identity.device.id);
  });

  const server = net.createServer((socket) => {
    broker.handle(socket);
    // After aedes has attached its reader, so this only reads along (see guardPacketSize).
    guardPacketSize(socket, limits.maxPacketBytes, (announcedBytes) => {
      const fields = { address: socket.remoteAddress, announcedBytes, maxPacketBytes: limits.maxPacketBytes };
      logger.warn(fields, 'mqtt packet too large; connection closed');
      socket.destroy();
    });
  });
  // Sockets beyond the device cap with room for the internal clients and for refusals
  // in progress; past this the kernel's connection is closed unanswered.
  server.maxConnections = limits.maxConnections + Math.max(100, Math.ceil(limits.maxConnections / 10));
  broker.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
  broker.on('connectionError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'mqtt connection error'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new PortInUseError(
            'MQTT_PORT',
            options.port,
            'Another MQTT broker (Mosquitto?) may be running there. Set MQTT_PORT to a free port for the embedded broker, or set MQTT_URL to use the running broker.',
          ),
        );
      } else reject(err);
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  logger.info({ port, host: options.host }, 'embedded mqtt broker listening');

  return {
    port,
    disconnectDevice(deviceId) {
      const open = [...(connections.get(deviceId) ?? [])];
      connections.delete(deviceId);
      lastKnown.delete(deviceId);
      lastKnown.delete(ownTracksUsername(deviceId));
      for (const client of open) client.close();
      return open.length;
    },
    publish(topic, payload) {
      broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false }, () => undefined);
    },
    internalUrl: `mqtt://${INTERNAL_USERNAME}:${internalPassword}@${dialHost(options.host)}:${port}`,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A device's own topics, as the Mosquitto ACL grants them (deploy/mosquitto/acl): its
 * telemetry topic, or for an OwnTracks device everything under `owntracks/<user name>/`
 * (its topic, the app's sub-topics, a device id set wrong in the app), which ingest stores
 * or quarantines with a reason.
 */
function mayPublish(device: DeviceIdentity, username: string, topic: string): boolean {
  if (device.protocol === 'owntracks') {
    const base = username === device.id ? ownTracksTopic(device.id) : `owntracks/${username}`;
    return topic === base || topic.startsWith(`${base}/`);
  }
  return topic === telemetryTopic(device.id);
}

/** Where a local client reaches a server listening on `host`. */
function dialHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
