/**
 * Fuel prices: a history per fuel type, never edited (a trigger refuses UPDATE, DELETE and
 * TRUNCATE). A price applies from its validFrom (a local date) until the next one.
 */
import type { Database } from '../../db/client.js';
import { writeAudit, type Actor } from './audit-log.js';

/** Any constant shared by every Armada process: one price is added at a time. */
const PRICES_LOCK_KEY = 0x50524943; // "PRIC"

export interface FuelPrice {
  id: string;
  fuelType: string;
  priceIdrPerLitre: bigint;
  /** YYYY-MM-DD, a day in REPORT_TZ. */
  validFrom: string;
  source: string | null;
  createdAt: Date;
  createdByKeyId: string | null;
}

const SELECT = `SELECT id, fuel_type, price_idr_per_litre::text AS price, to_char(valid_from, 'YYYY-MM-DD') AS valid_from, source,
  created_at, created_by_key_id FROM fuel_prices`;

const toPrice = (r: Record<string, unknown>): FuelPrice => ({
  id: String(r.id),
  fuelType: String(r.fuel_type),
  priceIdrPerLitre: BigInt(String(r.price)),
  validFrom: String(r.valid_from),
  source: r.source === null ? null : String(r.source),
  createdAt: new Date(r.created_at as string),
  createdByKeyId: r.created_by_key_id === null ? null : String(r.created_by_key_id),
});

export type AddPriceOutcome =
  | { outcome: 'created' | 'existing'; price: FuelPrice }
  | { outcome: 'not_later'; latest: FuelPrice }
  | { outcome: 'different_same_day'; existing: FuelPrice };

export function priceRepository(database: Database) {
  return {
    /** The history, by fuel type then validFrom. */
    async list(filter: { fuelType?: string | undefined } = {}): Promise<FuelPrice[]> {
      const rows = filter.fuelType
        ? await database.query(`${SELECT} WHERE fuel_type = $1 ORDER BY fuel_type, valid_from`, [filter.fuelType])
        : await database.query(`${SELECT} ORDER BY fuel_type, valid_from`);
      return rows.map(toPrice);
    },
    /** The price of each fuel type in force on the local day (null for a fuel without a price yet). */
    async inForceOn(day: string, fuelType?: string): Promise<FuelPrice[]> {
      const rows = await database.query(
        `SELECT DISTINCT ON (fuel_type) * FROM (${SELECT} WHERE valid_from <= $1::date ${fuelType ? 'AND fuel_type = $2' : ''}) p
         ORDER BY fuel_type, valid_from DESC`,
        fuelType ? [day, fuelType] : [day],
      );
      return rows.map(toPrice);
    },
    /**
     * Adds a price: the same price again is 'existing'; a validFrom not after the fuel's
     * latest is refused (history is never rewritten). Prices are added one at a time.
     */
    async add(
      input: { fuelType: string; priceIdrPerLitre: bigint; validFrom: string; source: string | null },
      actor: Actor,
      at: Date,
    ): Promise<AddPriceOutcome> {
      return database.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [PRICES_LOCK_KEY]);
        const [same] = await tx.query(`${SELECT} WHERE fuel_type = $1 AND valid_from = $2::date`, [input.fuelType, input.validFrom]);
        if (same) {
          const existing = toPrice(same);
          return existing.priceIdrPerLitre === input.priceIdrPerLitre
            ? { outcome: 'existing' as const, price: existing }
            : { outcome: 'different_same_day' as const, existing };
        }
        const [latestRow] = await tx.query(`${SELECT} WHERE fuel_type = $1 ORDER BY valid_from DESC LIMIT 1`, [input.fuelType]);
        if (latestRow && toPrice(latestRow).validFrom > input.validFrom)
          return { outcome: 'not_later' as const, latest: toPrice(latestRow) };
        const [row] = await tx.query(
          `INSERT INTO fuel_prices (fuel_type, price_idr_per_litre, valid_from, source, created_at, created_by_key_id)
           VALUES ($1, $2, $3::date, $4, $5, $6)
           RETURNING id, fuel_type, price_idr_per_litre::text AS price, to_char(valid_from, 'YYYY-MM-DD') AS valid_from, source,
             created_at, created_by_key_id`,
          [input.fuelType, input.priceIdrPerLitre.toString(), input.validFrom, input.source, at, actor.keyId],
        );
        const price = toPrice(row!);
        const previous = latestRow ? toPrice(latestRow) : null;
        await writeAudit(
          tx,
          actor,
          {
            action: 'fuel_price.create',
            entity: 'fuel_price',
            entityId: price.id,
            departmentId: null,
            before: previous && { fuelType: previous.fuelType, priceIdrPerLitre: previous.priceIdrPerLitre, validFrom: previous.validFrom },
            after: { fuelType: price.fuelType, priceIdrPerLitre: price.priceIdrPerLitre, validFrom: price.validFrom, source: price.source },
          },
          at,
        );
        return { outcome: 'created' as const, price };
      });
    },
  };
}
export type PriceRepository = ReturnType<typeof priceRepository>;
