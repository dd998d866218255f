/**
 * Money and ledger litres, exactly. Rupiah are whole numbers (bigint); ledger litres are
 * decimals with three places, held here as integer millilitres (bigint) so that sums and
 * products never pass through a float. A computed amount is rounded half up once, where
 * the report says (the vehicle-month row); totals are sums of rounded rows.
 */

/** Millilitres in a litre: ledger litres carry three decimals. */
export const ML_PER_LITRE = 1000n;

const DECIMAL = /^(\d{1,9})(?:\.(\d{1,3}))?$/;

/**
 * Parses a decimal litre figure ('12.5', '40', '0.125' or a number that has at most three
 * decimals) into millilitres. Throws a RangeError that says what is wrong otherwise.
 */
export function parseLitres(value: string | number): bigint {
  const text = typeof value === 'number' ? numberToDecimal(value) : value.trim();
  const m = DECIMAL.exec(text);
  if (!m) throw new RangeError(`"${String(value)}" is not a number of litres with at most three decimals`);
  return BigInt(m[1]!) * ML_PER_LITRE + BigInt((m[2] ?? '').padEnd(3, '0'));
}

function numberToDecimal(value: number): string {
  if (!Number.isFinite(value) || value < 0) return String(value);
  // toFixed(3) then check that nothing was lost: 12.3456 is refused, 12.345 kept exactly.
  const fixed = value.toFixed(3);
  if (Math.abs(Number(fixed) - value) > 1e-9 * Math.max(1, value)) return String(value);
  return fixed.replace(/\.?0+$/, '') || '0';
}

/** Millilitres as the decimal text PostgreSQL's numeric(12,3) takes and gives ('12.500'). */
export function formatLitres(ml: bigint): string {
  const sign = ml < 0n ? '-' : '';
  const abs = ml < 0n ? -ml : ml;
  return `${sign}${abs / ML_PER_LITRE}.${String(abs % ML_PER_LITRE).padStart(3, '0')}`;
}

/** Millilitres as a JSON number of litres (for responses; exact to the three decimals). */
export const litresNumber = (ml: bigint): number => Number(formatLitres(ml));

/** a / b rounded half up (away from zero for halves), for b > 0. */
export function divideRoundHalfUp(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError('divisor must be positive');
  const negative = a < 0n;
  const abs = negative ? -a : a;
  const q = (abs * 2n + b) / (2n * b);
  return negative ? -q : q;
}

/** The rupiah of `ml` millilitres at `priceIdrPerLitre`, rounded half up to a whole rupiah. */
export function amountIdr(ml: bigint, priceIdrPerLitre: bigint): bigint {
  return divideRoundHalfUp(ml * priceIdrPerLitre, ML_PER_LITRE);
}

/** Rupiah as a JSON number: exact up to 2^53 (9 quadrillion), far beyond any city budget. */
export function rupiahNumber(idr: bigint): number {
  if (idr > BigInt(Number.MAX_SAFE_INTEGER) || idr < -BigInt(Number.MAX_SAFE_INTEGER))
    throw new RangeError('rupiah amount beyond exact JSON numbers');
  return Number(idr);
}

/** `Rp 1.234.567` (Indonesian grouping), for exports and the page. */
export function formatRupiah(idr: bigint | number): string {
  const n = typeof idr === 'bigint' ? idr : BigInt(Math.round(idr));
  const sign = n < 0n ? '-' : '';
  const digits = (n < 0n ? -n : n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `${sign}Rp ${digits}`;
}
