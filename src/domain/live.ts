/**
 * The payload the ingest worker publishes on `fleet/v1/live/{departmentId}/{vehicleId}`
 * once a reading is committed and has become the vehicle's newest fix.
 */
import { z } from 'zod';

export const livePositionSchema = z.object({
  vehicleId: z.string(),
  departmentId: z.string(),
  deviceId: z.string(),
  at: z.string(),
  lat: z.number(),
  lon: z.number(),
  speedKmh: z.number().nullable(),
  headingDeg: z.number().nullable(),
  fuelLitres: z.number().nullable(),
  fuelPercent: z.number().nullable(),
  ignition: z.boolean().nullable(),
  batteryV: z.number().nullable(),
});
export type LivePosition = z.infer<typeof livePositionSchema>;
