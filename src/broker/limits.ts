/**
 * Limits of the embedded broker that aedes does not enforce itself: the size of an
 * MQTT packet (aedes buffers whatever a packet's header announces, up to 256 MiB, even
 * before the client has logged in) and failed logins per address.
 */
import type net from 'node:net';

/** What one embedded broker takes (src/config.ts: the MQTT_* settings describe each). */
export interface EmbeddedBrokerLimits {
  /** Largest MQTT packet, header included; a larger one closes the connection as soon as its header arrives. */
  maxPacketBytes: number;
  /** Time from the TCP connection to a complete CONNECT; then the socket is closed. */
  connectTimeoutMs: number;
  /** Failed logins a minute from one address; past it, that address is refused unchecked. */
  authFailuresPerMinute: number;
  /** Devices connected at once; past it, CONNACK 3 (server unavailable) and a log line. */
  maxConnections: number;
}

/**
 * maxConnections: the whole embedded default (PGlite, ingest, API) was measured holding
 * 2,000 devices reporting every 10 s, and not 5,000 (bench/embedded-broker.ts --service;
 * docs/deployment.md has the figures). Past it, Mosquitto.
 */
export const DEFAULT_EMBEDDED_LIMITS: EmbeddedBrokerLimits = {
  // The largest telemetry payload ingest takes (MAX_PAYLOAD_BYTES, 256 KiB), with room for the topic and header.
  maxPacketBytes: 257 * 1024,
  connectTimeoutMs: 10_000,
  authFailuresPerMinute: 30,
  maxConnections: 2000,
};

/**
 * Watches the bytes a socket delivers to its reader and calls `tooLarge` as soon as a
 * packet's fixed header announces more than `maxBytes` (header included), before the
 * body arrives. It reads along through the 'data' event, which a stream whose reader
 * uses 'readable' and read() (aedes) emits for every chunk it reads, so it neither takes
 * nor delays a byte. Returns how many bytes it has seen (for tests).
 */
export function guardPacketSize(socket: net.Socket, maxBytes: number, tooLarge: (announcedBytes: number) => void): () => number {
  let seen = 0;
  /** Bytes of the current packet's body still to skip; -1 while reading a fixed header. */
  let skip = -1;
  /** The fixed header read so far: after the type byte, the remaining length's varint. */
  let headerBytes = 0;
  let remaining = 0;
  let multiplier = 1;
  let stopped = false;

  socket.on('data', (chunk: Buffer) => {
    if (stopped) return;
    seen += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        if (skip === 0) skip = -1;
        continue;
      }
      const byte = chunk[i++]!;
      headerBytes++;
      if (headerBytes === 1) continue; // the packet type and flags
      remaining += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if (byte & 0x80) {
        // A remaining length has at most 4 bytes; a fifth is a broken packet (aedes refuses it).
        if (headerBytes > 5) return void (stopped = true);
        continue;
      }
      const total = headerBytes + remaining;
      if (total > maxBytes) {
        stopped = true;
        tooLarge(total);
        return;
      }
      skip = remaining === 0 ? -1 : remaining;
      headerBytes = 0;
      remaining = 0;
      multiplier = 1;
    }
  });
  return () => seen;
}

/**
 * Failed logins per address in a sliding minute. An address past `perMinute` is refused
 * without its password being checked until its oldest failure in the window is a minute
 * old. Addresses are forgotten once their failures are; `maxAddresses` bounds the table
 * (a flood from many addresses evicts the oldest entries first).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly maxAddresses = 100_000,
  ) {}

  /** Whether this address may try to log in now. */
  allowed(address: string): boolean {
    const recent = this.recent(address);
    return recent.length < this.perMinute;
  }

  /** Records a failed login; returns true when this failure reaches the limit (log it once). */
  failed(address: string): boolean {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.delete(address);
    this.failures.set(address, recent);
    if (this.failures.size > this.maxAddresses) this.failures.delete(this.failures.keys().next().value!);
    return recent.length === this.perMinute;
  }

  get size(): number {
    return this.failures.size;
  }

  private recent(address: string): number[] {
    const cutoff = this.now() - 60_000;
    const list = (this.failures.get(address) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.failures.delete(address);
    else this.failures.set(address, list);
    return list;
  }
}
