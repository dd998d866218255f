/** Request and response schemas shared by the routes. Response schemas are allow-lists. */
import { z } from 'zod';
import { apiKeyRoles, deviceProtocols, fuelTypes, vehicleKinds } from '../db/schema.js';
import { DEVICE_ID_PATTERN } from '../domain/topics.js';

export const idParams = z.object({ id: z.uuid() });

export const errorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional(), requestId: z.string() }),
});

/** ISO 8601 with a zone offset: times in the API are absolute. */
export const isoTime = z.iso.datetime({ offset: true });

export const department = z.object({ id: z.uuid(), code: z.string(), name: z.string(), createdAt: z.string() });
export const createDepartment = z.object({
  code: z
    .string()
    .trim()
    .min(1)
    .max(32)
    .regex(/^[A-Za-z0-9_-]+$/, { message: 'letters, digits, _ and - only' }),
  name: z.string().trim().min(1).max(200),
});

const vehicleFields = {
  plateNumber: z
    .string()
    .trim()
    .min(2)
    .max(20)
    .transform((s) => s.toUpperCase().replace(/\s+/g, ' ')),
  departmentId: z.uuid(),
  kind: z.enum(vehicleKinds),
  fuelType: z.enum(fuelTypes),
  tankCapacityLitres: z.number().positive().max(2000),
  ratedLitresPer100Km: z.number().min(0).max(200),
  idleLitresPerHour: z.number().min(0).max(50),
  monthlyAllocationLitres: z.number().min(0).max(100_000),
  speedLimitKmh: z
    .number()
    .min(10)
    .max(300)
    .nullable()
    .optional()
    .describe("This vehicle's speed limit for alerts; null: the fleet-wide one"),
};
export const createVehicle = z.object(vehicleFields);
export const patchVehicle = z
  .object(vehicleFields)
  .partial()
  .refine((p) => Object.keys(p).length > 0, { message: 'name at least one field to change' });
export const vehicle = z.object({
  id: z.uuid(),
  ...vehicleFields,
  plateNumber: z.string(),
  speedLimitKmh: z.number().nullable(),
  createdAt: z.string(),
});

export const createDevice = z
  .object({
    id: z.string().trim().min(1).max(129),
    vehicleId: z.uuid(),
    protocol: z.enum(deviceProtocols).default('armada'),
  })
  .superRefine((d, ctx) => {
    // Broker user names of Armada's own services; a device must never be able to pose as one.
    if (/^armada($|-)/i.test(d.id)) {
      ctx.addIssue({ code: 'custom', path: ['id'], message: 'ids starting with "armada" are reserved for the service' });
    }
    if (d.protocol === 'armada' && !DEVICE_ID_PATTERN.test(d.id)) {
      ctx.addIssue({ code: 'custom', path: ['id'], message: 'use 1 to 64 of A-Z a-z 0-9 _ . : -' });
    }
    if (d.protocol === 'owntracks') {
      const parts = d.id.split('/');
      if (parts.length !== 2 || !parts.every((p) => DEVICE_ID_PATTERN.test(p))) {
        ctx.addIssue({ code: 'custom', path: ['id'], message: 'an OwnTracks device id is "user/device"' });
      }
    }
  });
export const device = z.object({
  id: z.string(),
  vehicleId: z.uuid(),
  protocol: z.enum(deviceProtocols),
  active: z.boolean(),
  createdAt: z.string(),
  lastSeenAt: z.string().nullable(),
  seqMissing: z
    .number()
    .nullable()
    .describe("Readings missing from the device's seq counter between the lowest and highest seen (null: it sends no seq)"),
});
export const createdDevice = device.extend({
  secret: z.string().describe('The MQTT password. Shown once; only its hash is stored.'),
  mqtt: z.object({ username: z.string(), topic: z.string() }),
});

export const createApiKey = z.object({
  name: z.string().trim().min(1).max(200),
  role: z.enum(apiKeyRoles),
  departmentId: z.uuid().optional(),
  expiresAt: isoTime
    .optional()
    .describe('From this time on the key is refused like a revoked one; must be in the future. Default: it does not expire'),
});
export const apiKey = z.object({
  id: z.uuid(),
  name: z.string(),
  role: z.enum(apiKeyRoles),
  departmentId: z.uuid().nullable(),
  keyPrefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  expiresAt: z.string().nullable().describe('When the key stops working; null: it does not expire'),
});
export const createdApiKey = apiKey.extend({ key: z.string().describe('Shown once; only its hash is stored.') });

export const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());
