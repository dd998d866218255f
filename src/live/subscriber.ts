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

export async function startLiveSubscriber(options: { url: string; hub: LiveHub; logger: Logger }): Promise<LiveSubscriber> {
  const client: MqttClient = await mqtt.connectAsync(options.url, {
    clientId: `armada-api-${randomBytes(4).toString('hex')}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 1000,
    reconnectOnConnackError: true,
  });
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
      if (alert.success) options.hub.publishAlert(alert.data);
      else options.logger.warn('live subscriber: an alert message without its vehicle and department');
      return;
    }
    const position = livePositionSchema.safeParse(parsed);
    if (position.success) options.hub.publish(position.data);
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
