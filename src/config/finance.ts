/** Finance: the purchase ledger and the reconciliation of purchases against telemetry. */
import { z } from 'zod';
import { fuelTypes } from '../db/schema.js';
import { nonNegative } from './fields.js';

export const financeVariables = {
  // finance: ledger
  LEDGER_MAX_FUTURE_S: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(300)
    .describe("How far ahead of the server's clock a purchase's time may be (receipt printers' clocks drift); later is refused"),
  // finance: reconciliation
  FINANCE_MATCH_WINDOW_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(86_400)
    .default(7200)
    .describe('A refuel within this many seconds of a receipt may be its fill'),
  FINANCE_RISE_TOLERANCE_LITRES: nonNegative
    .default(3)
    .describe('Receipt litres may exceed the tank rise by this many litres or FINANCE_RISE_TOLERANCE_PERCENT, whichever is more'),
  FINANCE_RISE_TOLERANCE_PERCENT: z.coerce.number().min(0).max(100).default(8).describe('… or this percent of the rise'),
  FINANCE_AWAY_KM: z.coerce
    .number()
    .min(0.05)
    .default(1)
    .describe('A purchase further than this from the vehicle is flagged away_from_vehicle'),
  FINANCE_PRICE_TOLERANCE_PERCENT: z.coerce
    .number()
    .min(0)
    .max(100)
    .default(1)
    .describe('amount ÷ litres further than this percent from the price in force is flagged price_mismatch'),
  FINANCE_ODOMETER_TOLERANCE_KM: nonNegative
    .default(5)
    .describe("A receipt's odometer further than this from the tracker's is flagged odometer_mismatch"),
  FINANCE_SUBSIDISED_FUELS: z
    .string()
    .refine(
      (t) =>
        t
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
          .every((x) => (fuelTypes as readonly string[]).includes(x)),
      { message: `must list fuel types among ${fuelTypes.join(', ')}` },
    )
    .default('')
    .describe('Comma-separated fuel types official vehicles may not buy (e.g. pertalite,solar); empty: not judged'),
  FINANCE_TELEMETRY_WAIT_H: z.coerce
    .number()
    .min(0)
    .max(24 * 60)
    .default(72)
    .describe("How long a purchase waits for its vehicle's telemetry before it is judged without it"),
  FINANCE_VOUCHER_EXPIRY_H: z.coerce
    .number()
    .min(0.25)
    .max(24 * 90)
    .default(24)
    .describe('How long a fuel voucher stays open'),
  FINANCE_SETTLE_INTERVAL_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(60)
    .describe('Seconds between runs of the job that settles verdicts and raises their alerts'),
};
