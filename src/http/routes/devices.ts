import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../../errors.js';
import { ownTracksTopic, ownTracksUsername, telemetryTopic } from '../../domain/topics.js';
import type { Device } from '../../repositories/devices.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../security/secrets.js';
import { requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { createDevice, createdDevice, device, errorResponse, iso } from '../schemas.js';

/** A device id in a path: OwnTracks ids contain a slash, sent URL-encoded (`budi%2Fphone`). */
const deviceParams = z.object({ id: z.string().min(1).max(129) });

const view = (d: Device) => ({
  id: d.id,
  vehicleId: d.vehicleId,
  protocol: d.protocol,
  active: d.active,
  createdAt: iso(d.createdAt)!,
  lastSeenAt: iso(d.lastSeenAt),
  seqMissing: d.seqMax === null || d.seqFirst === null ? null : d.seqMax - d.seqFirst + 1 - d.seqReceived,
});

/** How long a registration waits for this process's ingest worker to subscribe to the new device. */
const SUBSCRIBE_WAIT_MS = 5000;

export function deviceRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { devices, vehicles } = deps.repos;

  /**
   * How the device connects. An OwnTracks phone uses its user part as user name (the app
   * publishes on `owntracks/%u/%d`), unless another device of that user holds the name.
   */
  async function mqttAccess(d: Device): Promise<{ username: string; topic: string }> {
    if (d.protocol !== 'owntracks') return { username: d.id, topic: telemetryTopic(d.id) };
    const user = ownTracksUsername(d.id);
    const holder = await devices.findIdentityByUsername(user);
    return { username: holder?.id === d.id ? user : d.id, topic: ownTracksTopic(d.id) };
  }

  /** An MQTT user name is one device's: an Armada id may not be an OwnTracks user part, nor the reverse. */
  async function refuseNameClash(id: string, protocol: string | undefined): Promise<void> {
    if (protocol === 'owntracks') {
      const user = ownTracksUsername(id);
      if (await devices.findById(user)) {
        throw new ConflictError(`The MQTT user name "${user}" is the device ${user}'s; choose another user part.`);
      }
    } else {
      const phone = await devices.findIdentityByUsername(id);
      if (phone && phone.id !== id) {
        throw new ConflictError(`The MQTT user name "${id}" is the OwnTracks device ${phone.id}'s; choose another id.`);
      }
    }
  }

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
        await refuseNameClash(request.body.id, request.body.protocol);
        const secret = generateDeviceSecret();
        const created = await devices.create({ ...request.body, secretHash: hashDeviceSecret(secret) });
        if (deps.onDeviceRegistered) {
          // Bounded: with the broker away the subscription waits for its return, and the
          // registration must not. The worker's periodic refresh subscribes it then.
          let timer: NodeJS.Timeout | undefined;
          const gaveUp = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer from the broker within ${SUBSCRIBE_WAIT_MS} ms`)), SUBSCRIBE_WAIT_MS);
          });
          await Promise.race([deps.onDeviceRegistered(), gaveUp])
            .catch((err: Error) =>
              request.log.warn(
                { err: err.message, deviceId: created.id },
                'ingest could not subscribe to the new device at once; its next refresh will',
              ),
            )
            .finally(() => clearTimeout(timer));
        }
        return reply.code(201).send({ ...view(created), secret, mqtt: await mqttAccess(created) });
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

    app.post(
      '/devices/:id/rotate-secret',
      {
        preHandler: requireRole('admin', 'manager'),
        schema: {
          tags: ['devices'],
          summary: 'Issue a new MQTT secret for a device; answered once, the old one stops working',
          description:
            'An OwnTracks id is sent URL-encoded (`budi%2Fphone`). On the embedded broker, connections open with the old secret are closed at once. For Mosquitto, rewrite the password file (`tsx src/cli.ts mosquitto-auth`) and send SIGHUP: new connections with the old secret are then refused.',
          params: deviceParams,
          response: { 200: createdDevice, 403: errorResponse, 404: errorResponse },
        },
      },
      async (request) => {
        const found = await devices.findInScope(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Device');
        const secret = generateDeviceSecret();
        await devices.setSecretHash(found.id, hashDeviceSecret(secret));
        deps.onDeviceSecretChanged?.(found.id);
        request.log.info({ deviceId: found.id, by: request.auth.keyId }, 'device secret rotated');
        return { ...view(found), secret, mqtt: await mqttAccess(found) };
      },
    );

    app.patch(
      '/devices/:id',
      {
        preHandler: requireRole('admin', 'manager'),
        schema: {
          tags: ['devices'],
          summary: 'Activate or deactivate a device',
          description:
            "A deactivated device's messages go to quarantine (`inactive_device`) within the ingest's device cache time (10 s). Mosquitto refuses it once the password file is rewritten and reloaded.",
          params: deviceParams,
          body: z.object({ active: z.boolean() }),
          response: { 200: device, 400: errorResponse, 403: errorResponse, 404: errorResponse },
        },
      },
      async (request) => {
        const found = await devices.findInScope(request.auth, request.params.id);
        if (!found) throw new NotFoundError('Device');
        const updated = await devices.setActive(found.id, request.body.active);
        if (!updated) throw new NotFoundError('Device');
        if (updated.active !== found.active) {
          request.log.info(
            { deviceId: found.id, active: updated.active, by: request.auth.keyId },
            updated.active ? 'device activated' : 'device deactivated',
          );
        }
        return view(updated);
      },
    );
  };
}
