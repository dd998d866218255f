/** The register of filling stations (SPBU), by code. A station's position locates receipts that carry none. */
import type { Database } from '../../db/client.js';
import { writeAudit, type Actor } from './audit-log.js';

export interface Station {
  id: string;
  code: string;
  name: string;
  lat: number;
  lon: number;
  createdAt: Date;
}

const SELECT = 'SELECT id, code, name, lat, lon, created_at AS "createdAt" FROM fuel_stations';
const toStation = (r: Record<string, unknown>): Station => ({ ...(r as unknown as Station), createdAt: new Date(r.createdAt as string) });

export function stationRepository(database: Database) {
  return {
    async list(): Promise<Station[]> {
      return (await database.query(`${SELECT} ORDER BY code`)).map(toStation);
    },
    async findByCode(code: string): Promise<Station | undefined> {
      const [row] = await database.query(`${SELECT} WHERE code = $1`, [code]);
      return row ? toStation(row) : undefined;
    },
    async findByCodes(codes: readonly string[]): Promise<Map<string, Station>> {
      if (codes.length === 0) return new Map();
      const rows = await database.query(`${SELECT} WHERE code = ANY($1::text[])`, [[...new Set(codes)]]);
      return new Map(rows.map((r) => [String(r.code), toStation(r)]));
    },
    /** Registers a station (a code already registered: 'exists', nothing written), with its audit entry. */
    async create(input: Omit<Station, 'id' | 'createdAt'>, actor: Actor, at: Date): Promise<{ station: Station; created: boolean }> {
      return database.transaction(async (tx) => {
        const [row] = await tx.query(
          `INSERT INTO fuel_stations (code, name, lat, lon, created_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (code) DO NOTHING RETURNING id, code, name, lat, lon, created_at AS "createdAt"`,
          [input.code, input.name, input.lat, input.lon, at],
        );
        if (!row) {
          const [existing] = await tx.query(`${SELECT} WHERE code = $1`, [input.code]);
          return { station: toStation(existing!), created: false };
        }
        const station = toStation(row);
        await writeAudit(
          tx,
          actor,
          { action: 'fuel_station.create', entity: 'fuel_station', entityId: station.code, departmentId: null, before: null, after: input },
          at,
        );
        return { station, created: true };
      });
    },
  };
}
export type StationRepository = ReturnType<typeof stationRepository>;
