import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError } from '../../errors.js';
import { telemetryTopic } from '../../domain/topics.js';
import type { Device } from '../../repositories/devices.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../security/secrets.js';
import { requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { createDevice, createdDevice, device, errorResponse, iso } from '../schemas.js';

const view = (d: Device) => ({
  id: d.id,
  vehicleId: d.vehicleId,
  protocol: d.protocol,
  active: d.active,
  createdAt: iso(d.createdAt)!,
  lastSeenAt: iso(d.lastSeenAt),
  seqMissing: d.seqMax === null || d.seqFirst === null ? null : d.seqMax - d.seqFirst + 1 - d.seqReceived,
});

export function deviceRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { devices, vehicles } = deps.repos;
  return async (app) => {
    app.post(
      '/devices',
      {
        preHandler: requireRole('admin', 'manager'),
        schema: {
          tags: ['devices'],
          summary: 'Register a tracker for a vehicle; answers its MQTT secret once',
          body: createDevice,
          response: { 201: createdDevice, 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse },
        },
      },
      async (request, reply) => {
        const target = await vehicles.findById(request.auth, request.body.vehicleId);
        if (!target) throw new NotFoundError('Vehicle');
        const secret = generateDeviceSecret();
        const created = await devices.create({ ...request.body, secretHash: hashDeviceSecret(secret) });
        const topic = created.protocol === 'owntracks' ? `owntracks/${created.id}` : telemetryTopic(created.id);
        return reply.code(201).send({ ...view(created), secret, mqtt: { username: created.id, topic } });
      },
    );

    app.get(
      '/vehicles/:id/devices',
      {
        schema: {
          tags: ['devices'],
          summary: "A vehicle's trackers",
          params: z.object({ id: z.uuid() }),
          response: { 200: z.array(device), 404: errorResponse },
        },
      },
      async (request) => {
        const target = await vehicles.findById(request.auth, request.params.id);
        if (!target) throw new NotFoundError('Vehicle');
        return (await devices.listForVehicle(target.id)).map(view);
      },
    );
  };
}
