/**
 * Pertamina's pump prices in East Nusa Tenggara (Nusa Tenggara Timur, where Kupang is),
 * rupiah per litre, dated: one table for the simulator's receipts and the demo's seeded
 * price history (demo/seed.ts). Each row names where the figure comes from.
 *
 * What could be found, and what could not (searched in December 2026):
 * - The latest published figures found are those from 1 January 2026. Later changes in
 *   2026, if any, were not found: from 2026-01-01 on this table keeps those figures.
 * - 1 December 2025: Pertamina Patra Niaga's table lists NTT in one group with DKI Jakarta,
 *   Bali and NTB, so these figures are NTT's own.
 * - 1 January 2026: Pertamina's announcement gives one set of figures "for provinces with
 *   a 5 % motor fuel tax (PBBKB)"; the articles found do not print an NTT line. NTT was in
 *   that group in December 2025 (same prices as Jakarta), so the figures are taken as
 *   NTT's; they are marked `inferred`.
 * - Subsidised fuels: Pertalite Rp 10,000 and Solar (Biosolar) Rp 6,800, the same in every
 *   province, unchanged through December 2025 and January 2026. Their earlier validFrom
 *   here is the earliest date a source found confirms them, not the day they were set.
 */

export type PriceFuelType = 'pertalite' | 'pertamax' | 'pertamax_turbo' | 'solar' | 'dexlite' | 'pertamina_dex';

export interface PublishedPrice {
  fuelType: PriceFuelType;
  priceIdrPerLitre: number;
  /** The local date (WITA) from which the price applies. */
  validFrom: string;
  subsidised: boolean;
  /** Where the figure comes from: publisher, date, and what it says. */
  source: string;
  /** True when the source gives the figure for a group of provinces that NTT is taken to belong to. */
  inferred?: boolean;
}

const DEC_2025 =
  'Pertamina Patra Niaga price table of 1 Dec 2025 (pertaminapatraniaga.com), as reported by warmandpro.pages.dev on 2025-12-01: ' +
  'DKI Jakarta, Banten, Jawa, Bali, NTB and Nusa Tenggara Timur';
const JAN_2026 =
  'Pertamina announcement of 1 Jan 2026 (Corporate Secretary Pertamina Patra Niaga), as reported by economy.okezone.com on 2026-01-01: ' +
  "prices for provinces with PBBKB 5 %; NTT taken to be one of them (it shared Jakarta's prices in Dec 2025)";
const SUBSIDISED =
  'Subsidised price, uniform nationwide; confirmed in force on 1 Dec 2025 (ntbsatu.com, 2025-12-01) ' +
  'and 1 Jan 2026 (suarabersama.com, 2026-01-01)';

export const NTT_FUEL_PRICES: readonly PublishedPrice[] = Object.freeze([
  { fuelType: 'pertalite', priceIdrPerLitre: 10_000, validFrom: '2025-12-01', subsidised: true, source: SUBSIDISED },
  { fuelType: 'solar', priceIdrPerLitre: 6_800, validFrom: '2025-12-01', subsidised: true, source: SUBSIDISED },
  { fuelType: 'pertamax', priceIdrPerLitre: 12_750, validFrom: '2025-12-01', subsidised: false, source: DEC_2025 },
  { fuelType: 'pertamax_turbo', priceIdrPerLitre: 13_750, validFrom: '2025-12-01', subsidised: false, source: DEC_2025 },
  { fuelType: 'dexlite', priceIdrPerLitre: 14_700, validFrom: '2025-12-01', subsidised: false, source: DEC_2025 },
  { fuelType: 'pertamina_dex', priceIdrPerLitre: 15_000, validFrom: '2025-12-01', subsidised: false, source: DEC_2025 },
  { fuelType: 'pertamax', priceIdrPerLitre: 12_350, validFrom: '2026-01-01', subsidised: false, source: JAN_2026, inferred: true },
  { fuelType: 'pertamax_turbo', priceIdrPerLitre: 13_400, validFrom: '2026-01-01', subsidised: false, source: JAN_2026, inferred: true },
  { fuelType: 'dexlite', priceIdrPerLitre: 13_500, validFrom: '2026-01-01', subsidised: false, source: JAN_2026, inferred: true },
  { fuelType: 'pertamina_dex', priceIdrPerLitre: 13_600, validFrom: '2026-01-01', subsidised: false, source: JAN_2026, inferred: true },
]);

/**
 * The price in force on a local day (YYYY-MM-DD, WITA): the latest validFrom not after it.
 * Before the table's first date, its first price (the simulator may run in the past).
 */
export function fuelPriceOn(fuelType: PriceFuelType, localDay: string): number {
  let best: PublishedPrice | undefined;
  let first: PublishedPrice | undefined;
  for (const p of NTT_FUEL_PRICES) {
    if (p.fuelType !== fuelType) continue;
    if (!first || p.validFrom < first.validFrom) first = p;
    if (p.validFrom <= localDay && (!best || p.validFrom > best.validFrom)) best = p;
  }
  const found = best ?? first;
  if (!found) throw new Error(`no price for ${fuelType} in the table`);
  return found.priceIdrPerLitre;
}
