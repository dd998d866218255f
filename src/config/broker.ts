/** The MQTT broker: an external one (MQTT_URL), or the embedded one and its limits. */
import { z } from 'zod';
import { DEFAULT_EMBEDDED_LIMITS } from '../broker/limits.js';
import { port, emptyAsUndefined } from './fields.js';

const mqttUrl = z
  .string()
  .url()
  .refine((u) => /^(mqtts?|tcp|tls):\/\//.test(u), { message: 'must start with mqtt://, mqtts://, tcp:// or tls://' });

export const brokerVariables = {
  MQTT_URL: z
    .preprocess(emptyAsUndefined, mqttUrl.optional())
    .describe('Broker URL (`mqtt://user:password@host:1883`, `mqtts://…`) for the worker'),
  MQTT_PORT: port.default(1883).describe("The embedded broker's port (unused with MQTT_URL)"),
  MQTT_HOST: z.string().min(1).default('127.0.0.1').describe('The address the embedded broker listens on'),
  MQTT_MAX_PACKET_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(268_435_455)
    .default(DEFAULT_EMBEDDED_LIMITS.maxPacketBytes)
    .describe('Embedded broker: the largest MQTT packet it takes, header included; a larger one closes the connection at its header'),
  MQTT_CONNECT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(300_000)
    .default(DEFAULT_EMBEDDED_LIMITS.connectTimeoutMs)
    .describe('Embedded broker: time a new connection has to send a complete CONNECT before it is closed'),
  MQTT_AUTH_FAILURES_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(DEFAULT_EMBEDDED_LIMITS.authFailuresPerMinute)
    .describe('Embedded broker: failed logins a minute from one address; past it the address is refused unchecked for the minute'),
  MQTT_MAX_CONNECTIONS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(DEFAULT_EMBEDDED_LIMITS.maxConnections)
    .describe('Embedded broker: devices connected at once (measured: docs/deployment.md); past it CONNACK 3, a log line names Mosquitto'),
};
