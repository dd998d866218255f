/** Column types and defaults several tables share. */
import { bigint, customType, numeric, timestamp } from 'drizzle-orm/pg-core';

/** Raw bytes, exactly as received (a quarantined payload need not be valid UTF-8). */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

export const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/** Litres with three decimals (a pump shows two; a statement may show three). */
export const litres = (name: string) => numeric(name, { precision: 12, scale: 3 });
/** Whole rupiah. */
export const rupiah = (name: string) => bigint(name, { mode: 'bigint' });
