/** A bound reading as the ingest pipeline hands it to the writer: every optional field null unless given. */
import type { BoundReading } from '../../src/domain/ingest-types.js';

export function boundReading(
  fields: Pick<BoundReading, 'vehicleId' | 'deviceId' | 'departmentId' | 'fixAtMs'> & Partial<BoundReading>,
): BoundReading {
  return {
    lat: -10,
    lon: 123,
    speedKmh: null,
    headingDeg: null,
    altitudeM: null,
    satellites: null,
    hdop: null,
    ignition: null,
    odometerKm: null,
    fuelLitres: null,
    fuelPercent: null,
    fuelUsedLitres: null,
    batteryV: null,
    seq: null,
    attributes: null,
    receivedAtMs: fields.fixAtMs,
    ...fields,
  };
}
