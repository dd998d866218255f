/** Value types several configuration areas use. */
import { z } from 'zod';

export const port = z.coerce.number().int().min(0).max(65535);

export const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not an IANA time zone (for example Asia/Makassar)' },
);

export const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

export const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const nonNegative = z.coerce.number().min(0);
