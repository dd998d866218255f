/**
 * Readings as `COPY telemetry … FROM STDIN WITH (FORMAT binary)` data (PostgreSQL's
 * "binary copy file format": a header, then per row a field count and each field as its
 * length and its type's binary send form, then a trailer). Numbers go as IEEE floats and
 * integers, times as microseconds since 2000: nothing for either side to print or parse.
 * Each field's form must be exactly its column's type (a `real` as 4 bytes, a `double
 * precision` as 8), so the columns are listed here with their types, in the order of
 * TELEMETRY_COLUMNS.
 */
import type { BoundReading } from '../domain/ingest-types.js';

/** telemetry's columns as both write paths list them (the general path's JSON record too). */
export const TELEMETRY_COLUMNS =
  'vehicle_id, device_id, fix_at, received_at, lat, lon, speed_kmh, heading_deg, altitude_m, satellites, hdop, ' +
  'ignition, odometer_km, fuel_litres, fuel_percent, fuel_used_litres, battery_v, seq, attributes';
const FIELDS = 19;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** 2000-01-01T00:00:00Z, PostgreSQL's epoch for timestamps. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;

/**
 * The 16 bytes of each vehicle's uuid, kept: a fleet's few thousand vehicles send again and
 * again, and decoding the hex took ten buffer calls a row. Bounded: cleared past 100,000.
 */
const uuidCache = new Map<string, Uint8Array>();

function uuidBytes(id: string): Uint8Array {
  let bytes = uuidCache.get(id);
  if (bytes === undefined) {
    // 8-4-4-4-12 hex digits; Buffer.from with 'hex' stops at a dash, so without them.
    bytes = Buffer.from(id.replaceAll('-', ''), 'hex');
    if (bytes.length !== 16) throw new TypeError(`not a uuid: ${id.slice(0, 64)}`);
    if (uuidCache.size >= 100_000) uuidCache.clear();
    uuidCache.set(id, bytes);
  }
  return bytes;
}

class RowWriter {
  buf: Buffer;
  at = 0;

  constructor(bytes: number) {
    this.buf = Buffer.allocUnsafe(bytes);
  }

  ensure(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  int16(n: number): void {
    this.buf.writeInt16BE(n, this.at);
    this.at += 2;
  }

  int32(n: number): void {
    this.buf.writeInt32BE(n, this.at);
    this.at += 4;
  }

  /** A signed 64-bit integer from a safe integer, as two 32-bit halves. */
  int64(n: number): void {
    const high = Math.floor(n / TWO_32);
    this.buf.writeInt32BE(high, this.at);
    this.buf.writeUInt32BE(n - high * TWO_32, this.at + 4);
    this.at += 8;
  }

  null(): void {
    this.int32(-1);
  }

  uuid(id: string): void {
    this.int32(16);
    const bytes = uuidBytes(id);
    for (let i = 0; i < 16; i++) this.buf[this.at + i] = bytes[i]!;
    this.at += 16;
  }

  text(s: string): void {
    const lengthAt = this.at;
    this.at += 4;
    const written = this.buf.write(s, this.at, 'utf8');
    this.buf.writeInt32BE(written, lengthAt);
    this.at += written;
  }

  timestamp(ms: number): void {
    this.int32(8);
    this.int64(Math.round((ms - PG_EPOCH_MS) * 1000));
  }

  float8(n: number | null): void {
    if (n === null) return this.null();
    this.int32(8);
    this.buf.writeDoubleBE(n, this.at);
    this.at += 8;
  }

  float4(n: number | null): void {
    if (n === null) return this.null();
    this.int32(4);
    this.buf.writeFloatBE(n, this.at);
    this.at += 4;
  }

  smallint(n: number | null): void {
    if (n === null) return this.null();
    this.int32(2);
    this.int16(n);
  }

  bigint(n: number | null): void {
    if (n === null) return this.null();
    this.int32(8);
    this.int64(n);
  }

  bool(b: boolean | null): void {
    if (b === null) return this.null();
    this.int32(1);
    this.buf[this.at++] = b ? 1 : 0;
  }

  /** jsonb's binary form: a version byte (1), then the JSON text. */
  jsonb(json: string): void {
    const lengthAt = this.at;
    this.at += 4;
    this.buf[this.at++] = 1;
    const written = this.buf.write(json, this.at, 'utf8');
    this.buf.writeInt32BE(written + 1, lengthAt);
    this.at += written;
  }
}

/** Everything of a row but its two strings, with each field's length word. */
const FIXED_ROW_BYTES = 2 + FIELDS * 4 + 16 + 8 + 8 + 8 + 8 + 4 + 4 + 4 + 2 + 4 + 1 + 8 + 4 + 4 + 8 + 4 + 8 + 1;

/** The readings as one binary COPY stream, header and trailer included. */
export function binaryCopyData(readings: readonly BoundReading[]): Buffer {
  const w = new RowWriter(19 + readings.length * (FIXED_ROW_BYTES + 64) + 2);
  SIGNATURE.copy(w.buf, 0);
  w.at = SIGNATURE.length;
  w.int32(0); // flags: no OIDs
  w.int32(0); // no header extension
  for (const r of readings) {
    const attributes = r.attributes === null ? null : JSON.stringify(r.attributes);
    // UTF-8 takes at most three bytes for each UTF-16 unit.
    w.ensure(FIXED_ROW_BYTES + 3 * r.deviceId.length + (attributes === null ? 0 : 3 * attributes.length));
    w.int16(FIELDS);
    w.uuid(r.vehicleId);
    w.text(r.deviceId);
    w.timestamp(r.fixAtMs);
    w.timestamp(r.receivedAtMs);
    w.float8(r.lat);
    w.float8(r.lon);
    w.float4(r.speedKmh);
    w.float4(r.headingDeg);
    w.float4(r.altitudeM);
    w.smallint(r.satellites);
    w.float4(r.hdop);
    w.bool(r.ignition);
    w.float8(r.odometerKm);
    w.float4(r.fuelLitres);
    w.float4(r.fuelPercent);
    w.float8(r.fuelUsedLitres);
    w.float4(r.batteryV);
    w.bigint(r.seq);
    if (attributes === null) w.null();
    else w.jsonb(attributes);
  }
  w.ensure(2);
  w.int16(-1);
  return w.buf.subarray(0, w.at);
}
