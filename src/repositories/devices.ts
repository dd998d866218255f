import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { devices, vehicles } from '../db/schema.js';
import type { DeviceIdentity } from '../domain/ingest-types.js';
import type { DepartmentScope } from './scope.js';

export type Device = typeof devices.$inferSelect;
export type DeviceProtocol = Device['protocol'];

export function deviceRepository(db: Db) {
  const identities = () =>
    db
      .select({
        id: devices.id,
        vehicleId: devices.vehicleId,
        departmentId: vehicles.departmentId,
        protocol: devices.protocol,
        secretHash: devices.secretHash,
        active: devices.active,
      })
      .from(devices)
      .innerJoin(vehicles, eq(vehicles.id, devices.vehicleId));

  return {
    /** Every device's id and protocol (what a worker's partition of topics is made from). */
    async protocols(): Promise<Array<{ id: string; protocol: string }>> {
      return db.select({ id: devices.id, protocol: devices.protocol }).from(devices);
    },
    async create(input: { id: string; vehicleId: string; protocol: DeviceProtocol; secretHash: string }): Promise<Device> {
      const [row] = await db.insert(devices).values(input).returning();
      return row!;
    },
    async setSecretHash(id: string, secretHash: string): Promise<void> {
      await db.update(devices).set({ secretHash }).where(eq(devices.id, id));
    },
    async setActive(id: string, active: boolean): Promise<Device | undefined> {
      const [row] = await db.update(devices).set({ active }).where(eq(devices.id, id)).returning();
      return row;
    },
    /** The device, if it exists and the scope may see its vehicle's department. */
    async findInScope(scope: DepartmentScope, id: string): Promise<Device | undefined> {
      const [row] = await db
        .select({ device: devices })
        .from(devices)
        .innerJoin(vehicles, eq(vehicles.id, devices.vehicleId))
        .where(and(eq(devices.id, id), scope.departmentId ? eq(vehicles.departmentId, scope.departmentId) : undefined));
      return row?.device;
    },
    /** What a Mosquitto password file needs: every active device's id, protocol and secret hash, by id. */
    async listActiveCredentials(): Promise<Array<{ id: string; secretHash: string; protocol: DeviceProtocol; createdAt: Date }>> {
      return db
        .select({ id: devices.id, secretHash: devices.secretHash, protocol: devices.protocol, createdAt: devices.createdAt })
        .from(devices)
        .where(eq(devices.active, true))
        .orderBy(asc(devices.id));
    },
    async listForVehicle(vehicleId: string): Promise<Device[]> {
      return db.select().from(devices).where(eq(devices.vehicleId, vehicleId)).orderBy(asc(devices.id));
    },
    async findById(id: string): Promise<Device | undefined> {
      const [row] = await db.select().from(devices).where(eq(devices.id, id));
      return row;
    },
    async countInactive(): Promise<number> {
      const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(devices).where(eq(devices.active, false));
      return row?.n ?? 0;
    },
    async findIdentity(id: string): Promise<DeviceIdentity | undefined> {
      const [row] = await identities().where(eq(devices.id, id));
      return row;
    },

    /**
     * The device an MQTT user name stands for: the device with that id, or else the
     * OwnTracks device `<name>/…` (the app publishes on `owntracks/%u/%d`, so a phone's user
     * name is the user part). Should one user have several, the name is the active one's
     * registered first (the same choice as the Mosquitto password file).
     */
    async findIdentityByUsername(username: string): Promise<DeviceIdentity | undefined> {
      const [exact] = await identities().where(eq(devices.id, username));
      if (exact || username.includes('/')) return exact;
      const [phone] = await identities()
        .where(and(eq(devices.protocol, 'owntracks'), sql`split_part(${devices.id}, '/', 1) = ${username}`))
        .orderBy(sql`${devices.active} DESC`, asc(devices.createdAt), asc(devices.id))
        .limit(1);
      return phone;
    },

    /** Every device's identity, for the ingest worker's cache (one query for the fleet). */
    async allIdentities(): Promise<DeviceIdentity[]> {
      return identities();
    },
  };
}
export type DeviceRepository = ReturnType<typeof deviceRepository>;
