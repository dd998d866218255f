import { describe, expect, it } from 'vitest';
import { ConfigError, envSchema, loadConfig, variablesByArea } from '../../src/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      databaseUrl: undefined,
      mqttUrl: undefined,
      dataDir: './data',
      httpHost: '127.0.0.1',
      httpPort: 3000,
      mqttPort: 1883,
      reportTz: 'Asia/Makassar',
      logLevel: 'info',
      adminApiKey: undefined,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("reads the embedded broker's limits, with defaults, and refuses nonsense", () => {
    const defaults = { maxPacketBytes: 263_168, connectTimeoutMs: 10_000, authFailuresPerMinute: 30, maxConnections: 2000 };
    expect(loadConfig({}).embeddedBroker).toEqual(defaults);
    const c = loadConfig({
      MQTT_MAX_PACKET_BYTES: '65536',
      MQTT_CONNECT_TIMEOUT_MS: '2000',
      MQTT_AUTH_FAILURES_PER_MINUTE: '5',
      MQTT_MAX_CONNECTIONS: '800',
    });
    expect(c.embeddedBroker).toEqual({ maxPacketBytes: 65_536, connectTimeoutMs: 2000, authFailuresPerMinute: 5, maxConnections: 800 });
    expect(() => loadConfig({ MQTT_MAX_PACKET_BYTES: '10' })).toThrow(/MQTT_MAX_PACKET_BYTES/);
    expect(() => loadConfig({ MQTT_MAX_CONNECTIONS: '0' })).toThrow(/MQTT_MAX_CONNECTIONS/);
  });

  it('coerces numbers and reads URLs', () => {
    const c = loadConfig({
      HTTP_PORT: '8080',
      MQTT_PORT: '0',
      DATABASE_URL: 'postgres://u:p@db:5432/armada',
      MQTT_URL: 'mqtt://armada:secret@broker:1883',
      REPORT_TZ: 'Asia/Jakarta',
    });
    expect(c.httpPort).toBe(8080);
    expect(c.mqttPort).toBe(0);
    expect(c.databaseUrl).toBe('postgres://u:p@db:5432/armada');
    expect(c.mqttUrl).toBe('mqtt://armada:secret@broker:1883');
    expect(c.reportTz).toBe('Asia/Jakarta');
  });

  it('reads the HTTP limits and TRUST_PROXY, and refuses what would not work', () => {
    expect(loadConfig({}).http).toEqual({
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 10_000,
      maxConnections: 5000,
      liveConnectionsPerKey: 20,
    });
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' }).trustProxy).toBe('127.0.0.1, 10.0.0.0/8,::1');
    for (const bad of ['true', '10.0.0.0/33', 'proxy.local', '127.0.0.1/8/8']) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY/);
    }
    const inverted = { HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' };
    expect(() => loadConfig(inverted)).toThrow(/HTTP_HEADERS_TIMEOUT_MS must not exceed/);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', MQTT_URL: '', ADMIN_API_KEY: '' }).databaseUrl).toBeUndefined();
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        HTTP_PORT: 'eighty',
        MQTT_PORT: '70000',
        REPORT_TZ: 'Mars/Olympus',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://x',
        ADMIN_API_KEY: 'short',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['HTTP_PORT', 'MQTT_PORT', 'REPORT_TZ', 'LOG_LEVEL', 'DATABASE_URL', 'ADMIN_API_KEY']) {
      expect(message).toContain(name);
    }
    expect((error as ConfigError).problems).toHaveLength(6);
  });

  it('never echoes a secret or a URL that may hold a password', () => {
    let message = '';
    try {
      loadConfig({ ADMIN_API_KEY: 'too-short-secret', DATABASE_URL: 'http://user:hunter2@db' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('ADMIN_API_KEY');
    expect(message).not.toContain('too-short-secret');
    expect(message).not.toContain('hunter2');
  });

  it('reads the holidays of the working calendar, and names a bad date', () => {
    expect(loadConfig({}).analytics.workingHours.holidays?.size).toBe(0);
    const c = loadConfig({ WORKING_HOLIDAYS: '2026-08-17,2026-12-24/2026-12-26' });
    expect([...c.analytics.workingHours.holidays!].sort()).toEqual(['2026-08-17', '2026-12-24', '2026-12-25', '2026-12-26']);
    expect(c.analytics.workingHours.weekdays).toEqual([1, 2, 3, 4, 5]);
    let error: unknown;
    try {
      loadConfig({ WORKING_HOLIDAYS: '2026-08-17,2026-13-01' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(1);
    expect((error as ConfigError).problems[0]).toMatch(/^WORKING_HOLIDAYS .*"2026-13-01"/);
  });
});

describe('finance: ledger settings', () => {
  it('read LEDGER_MAX_FUTURE_S (default 300 s) and name a bad value', () => {
    expect(loadConfig({}).ledger).toEqual({ maxFutureS: 300, reportTz: 'Asia/Makassar' });
    const set = loadConfig({ LEDGER_MAX_FUTURE_S: '60', REPORT_TZ: 'Asia/Jakarta' });
    expect(set.ledger).toEqual({ maxFutureS: 60, reportTz: 'Asia/Jakarta' });
    expect(() => loadConfig({ LEDGER_MAX_FUTURE_S: '-1' })).toThrow(/LEDGER_MAX_FUTURE_S/);
  });
});

describe('the variables by area', () => {
  it('are all in the schema, each once, and the schema holds no other', () => {
    const declared = Object.values(variablesByArea).flatMap((area) => Object.keys(area));
    expect(new Set(declared).size).toBe(declared.length);
    expect([...declared].sort()).toEqual(Object.keys(envSchema.shape).sort());
    for (const area of Object.values(variablesByArea)) {
      for (const [name, schema] of Object.entries(area)) expect(envSchema.shape[name as keyof typeof envSchema.shape]).toBe(schema);
    }
  });
});
