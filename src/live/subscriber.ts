/**
 * Feeds the hub from the live topics. Every API instance subscribes on its own (a plain,
 * not shared, subscription), so each serves all positions to its own clients. QoS 0:
 * a live map wants the newest position, and the next one is seconds away.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { livePositionSchema } from '../domain/live.js';
import { LIVE_SUBSCRIPTION } from '../domain/topics.js';
import { z } from 'zod';
import type { LiveHub } from './hub.js';

/** What the hub needs of an alert to route it; the rest passes through as the engine wrote it. */
const alertMessage = z.looseObject({ vehicleId: z.string(), departmentId: z.string() });

export interface LiveSubscriber {
  isConnected(): boolean;
  close(): Promise<void>;
}

/**
 * Which departments are this deployment's: a broker shared with another Armada (another
 * city, or a test beside this one) carries its live topics too, and its vehicles must
 * not appear on this one's maps. A known department is remembered for good (departments
 * are not deleted); an unknown one is asked about again after `unknownTtlMs`, so a
 * department created a moment ago shows up at once.
 */
export function departmentDirectory(exists: (id: string) => Promise<boolean>, options: { unknownTtlMs?: number; now?: () => number } = {}) {
  const unknownTtlMs = options.unknownTtlMs ?? 5000;
  const now = options.now ?? Date.now;
  const known = new Set<string>();
  const unknownUntil = new Map<string, number>();
  const uuid = z.uuid();
  return async function isOurs(departmentId: string): Promise<boolean> {
    if (known.has(departmentId)) return true;
    const until = unknownUntil.get(departmentId);
    if (until !== undefined && until > now()) return false;
    const ours = uuid.safeParse(departmentId).success && (await exists(departmentId));
    if (ours) {
      known.add(departmentId);
      unknownUntil.delete(departmentId);
    } else {
      if (unknownUntil.size > 10_000) unknownUntil.clear();
      unknownUntil.set(departmentId, now() + unknownTtlMs);
    }
    return ours;
  };
}

export async function startLiveSubscriber(options: {
  url: string;
  hub: LiveHub;
  logger: Logger;
  /** Whether a department is this deployment's; messages of others are dropped. */
  isOurDepartment?: (departmentId: string) => Promise<boolean>;
  /** How long one CONNECT may wait for its answer (mqtt.js's default: 30 s). */
  connectTimeoutMs?: number;
}): Promise<LiveSubscriber> {
  const ours = async (departmentId: string): Promise<boolean> => {
    if (!options.isOurDepartment) return true;
    try {
      return await options.isOurDepartment(departmentId);
    } catch (err) {
      options.logger.warn({ err }, 'live subscriber: could not check a department; message dropped');
      return false;
    }
  };
  const client = await connectPatiently(options.url, options.logger, options.connectTimeoutMs);
  client.on('error', (err) => options.logger.warn({ err: err.message }, 'live subscriber: mqtt error'));
  client.on('message', (topic, payload) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      options.logger.warn('live subscriber: a live message that is not JSON');
      return;
    }
    if (topic.endsWith('/alerts')) {
      const alert = alertMessage.safeParse(parsed);
      if (alert.success) void ours(alert.data.departmentId).then((yes) => yes && options.hub.publishAlert(alert.data));
      else options.logger.warn('live subscriber: an alert message without its vehicle and department');
      return;
    }
    const position = livePositionSchema.safeParse(parsed);
    if (position.success) void ours(position.data.departmentId).then((yes) => yes && options.hub.publish(position.data));
    else options.logger.warn({ issues: position.error.issues.length }, 'live subscriber: a live message that is not a position');
  });
  await client.subscribeAsync(LIVE_SUBSCRIPTION, { qos: 0 });
  return {
    isConnected: () => client.connected,
    async close() {
      await client.endAsync(true);
    },
  };
}

/** How often a broker that is reachable but too busy to answer CONNECT is asked again. */
const CONNACK_TIMEOUT_ATTEMPTS = 10;

/**
 * Connects the subscriber. A broker that refuses or cannot be reached fails the start as
 * before; one that is reachable but does not answer CONNECT in time (the embedded broker
 * right after a restart, while every device reconnects and flushes its buffer) is asked
 * again instead of stopping the process.
 */
async function connectPatiently(url: string, logger: Logger, connectTimeoutMs = 30_000): Promise<MqttClient> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await mqtt.connectAsync(url, {
        clientId: `armada-api-${randomBytes(4).toString('hex')}`,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 1000,
        reconnectOnConnackError: true,
        connectTimeout: connectTimeoutMs,
      });
    } catch (err) {
      const message = (err as Error).message ?? '';
      if (!/connack timeout/i.test(message) || attempt >= CONNACK_TIMEOUT_ATTEMPTS) throw err;
      logger.warn({ attempt, err: message }, 'live subscriber: the broker did not answer CONNECT in time; asking again');
    }
  }
}
