/**
 * Working time in Kupang: WITA (Asia/Makassar, UTC+8, no daylight saving). Days, weekdays
 * and duty hours are counted in WITA; everything else in the simulator is UTC.
 */

export const WITA_OFFSET_MS = 8 * 3600_000;
export const DAY_MS = 86_400_000;

/** How a vehicle is used, which decides its hours and its routes. */
export type Duty = 'office' | 'shift' | 'garbage' | 'bus';

/** Days since 1970-01-01 in WITA. */
export function witaDayIndex(ms: number): number {
  return Math.floor((ms + WITA_OFFSET_MS) / DAY_MS);
}

/** The UTC instant of 00:00 WITA on that day. */
export function witaDayStartMs(dayIndex: number): number {
  return dayIndex * DAY_MS - WITA_OFFSET_MS;
}

/** 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function witaWeekday(dayIndex: number): number {
  return (((dayIndex + 4) % 7) + 7) % 7;
}

/** The WITA calendar date, YYYY-MM-DD. */
export function witaDate(ms: number): string {
  return new Date(witaDayStartMs(witaDayIndex(ms)) + WITA_OFFSET_MS).toISOString().slice(0, 10);
}

/** Minutes since WITA midnight. */
export function witaMinuteOfDay(ms: number): number {
  return (ms - witaDayStartMs(witaDayIndex(ms))) / 60_000;
}

const hm = (h: number, m = 0) => h * 60 + m;

/**
 * The official hours of each duty (WITA): what an "outside working hours" alert
 * checks. A vehicle's actual day starts and ends at random times inside them.
 */
export const DUTY_HOURS: Record<Duty, { weekdays: readonly number[]; fromMin: number; toMin: number }> = {
  office: { weekdays: [1, 2, 3, 4, 5], fromMin: hm(7), toMin: hm(16, 30) },
  garbage: { weekdays: [1, 2, 3, 4, 5, 6], fromMin: hm(5), toMin: hm(14) },
  bus: { weekdays: [1, 2, 3, 4, 5, 6], fromMin: hm(5, 30), toMin: hm(18, 30) },
  shift: { weekdays: [0, 1, 2, 3, 4, 5, 6], fromMin: 0, toMin: hm(24) },
};

export function isDutyTime(duty: Duty, ms: number): boolean {
  const hours = DUTY_HOURS[duty];
  const minute = witaMinuteOfDay(ms);
  return hours.weekdays.includes(witaWeekday(witaDayIndex(ms))) && minute >= hours.fromMin && minute < hours.toMin;
}

/**
 * The window a vehicle actually works on a day, in minutes after WITA midnight, from two
 * uniforms in [0, 1): start and end drift by up to half an hour inside the official hours.
 * Null on days off.
 */
export function workWindowMin(duty: Duty, weekday: number, u1: number, u2: number): { fromMin: number; toMin: number } | null {
  if (!DUTY_HOURS[duty].weekdays.includes(weekday)) return null;
  switch (duty) {
    case 'office':
      return { fromMin: hm(7, 15) + 40 * u1, toMin: hm(15, 40) + 35 * u2 };
    case 'garbage':
      return { fromMin: hm(5, 15) + 30 * u1, toMin: hm(12, 30) + 60 * u2 };
    case 'bus':
      return { fromMin: hm(6) + 20 * u1, toMin: hm(17, 40) + 30 * u2 };
    case 'shift':
      return { fromMin: 0, toMin: hm(24) };
  }
}
