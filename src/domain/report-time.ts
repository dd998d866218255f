/**
 * Report days and working hours in REPORT_TZ. Pure: a report day is a calendar day
 * ('YYYY-MM-DD') in the report's time zone, and these functions turn days into the
 * UTC instants that bound them and back. Zones with daylight saving work too (a day is
 * then 23 or 25 hours long); Kupang's Asia/Makassar is a fixed UTC+8.
 */

export type LocalDay = string;

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Offsets change at most a few times a year; caching per zone and hour keeps a year of 10 s readings cheap. */
const offsetCache = new Map<string, Map<number, number>>();

/** The zone's offset from UTC at `utcMs`, in ms (Asia/Makassar: +8 h). */
export function tzOffsetMs(tz: string, utcMs: number): number {
  const hour = Math.floor(utcMs / 3_600_000);
  let perZone = offsetCache.get(tz);
  if (!perZone) {
    perZone = new Map();
    offsetCache.set(tz, perZone);
  }
  const cached = perZone.get(hour);
  if (cached !== undefined) return cached;
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(hour * 3_600_000))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  const offset = asUtc - hour * 3_600_000;
  if (perZone.size > 100_000) perZone.clear();
  perZone.set(hour, offset);
  return offset;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function dayFromUtcFields(d: Date): LocalDay {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** The report day that contains the instant. */
export function localDayOf(tz: string, utcMs: number): LocalDay {
  return dayFromUtcFields(new Date(utcMs + tzOffsetMs(tz, utcMs)));
}

function parseDay(day: LocalDay): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new Error(`not a day: ${day}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

export function addDays(day: LocalDay, n: number): LocalDay {
  return dayFromUtcFields(new Date(parseDay(day) + n * DAY_MS));
}

/** The month (its first day) a report day belongs to. */
export const monthOf = (day: LocalDay): LocalDay => `${day.slice(0, 7)}-01`;

/** The first day of the month after the one `month` (a month's first day) begins. */
export function nextMonth(month: LocalDay): LocalDay {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}

/** The last day of the month that `month` (its first day) begins. */
export const lastDayOfMonth = (month: LocalDay): LocalDay => addDays(nextMonth(month), -1);

/** The months (their first days) that lie wholly inside [firstDay, lastDay], in order. */
export function wholeMonthsWithin(firstDay: LocalDay, lastDay: LocalDay): LocalDay[] {
  const months: LocalDay[] = [];
  for (let m = monthOf(firstDay); m <= lastDay; m = nextMonth(m)) {
    if (m >= firstDay && lastDayOfMonth(m) <= lastDay) months.push(m);
  }
  return months;
}

/** Whole days from `a` to `b` (negative when b is earlier). */
export function daysBetween(a: LocalDay, b: LocalDay): number {
  return Math.round((parseDay(b) - parseDay(a)) / DAY_MS);
}

/** The UTC instant at which the local wall-clock time `localMs` (as if UTC) happens. */
function instantOfLocal(tz: string, localMs: number): number {
  let guess = localMs - tzOffsetMs(tz, localMs);
  // Twice settles it, also next to an offset change.
  guess = localMs - tzOffsetMs(tz, guess);
  return localMs - tzOffsetMs(tz, guess);
}

/** The instant the report day begins (local midnight). */
export function dayStartMs(tz: string, day: LocalDay): number {
  return instantOfLocal(tz, parseDay(day));
}

/** [start, end) of the report day, in epoch ms. */
export function dayRangeMs(tz: string, day: LocalDay): { startMs: number; endMs: number } {
  return { startMs: dayStartMs(tz, day), endMs: dayStartMs(tz, addDays(day, 1)) };
}

/** Every report day that overlaps [fromMs, toMs), in order. */
export function daysOverlapping(tz: string, fromMs: number, toMs: number): LocalDay[] {
  if (!(toMs > fromMs)) return [];
  const days: LocalDay[] = [];
  let day = localDayOf(tz, fromMs);
  while (dayStartMs(tz, day) < toMs) {
    days.push(day);
    day = addDays(day, 1);
  }
  return days;
}

/**
 * When the fleet works: ISO weekdays (1 = Monday … 7 = Sunday) and a daily window in
 * minutes after local midnight, [startMin, endMin). Driving outside it is reported.
 * `holidays` are report days that are not working days whatever their weekday (public
 * holidays, the collective leave days around them).
 */
export interface WorkingHours {
  weekdays: readonly number[];
  startMin: number;
  endMin: number;
  holidays?: ReadonlySet<LocalDay>;
}

/** Kupang's city offices: Monday to Friday, 07:00 to 16:00 WITA. */
export const DEFAULT_WORKING_HOURS: WorkingHours = Object.freeze({
  weekdays: Object.freeze([1, 2, 3, 4, 5]),
  startMin: 7 * 60,
  endMin: 16 * 60,
});

/** Parses "Mon-Fri 07:00-16:00" (days may also be listed: "Mon,Wed,Sat 08:00-12:00"). */
export function parseWorkingHours(text: string): WorkingHours {
  const names = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  const m = /^\s*([A-Za-z,\- ]+?)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  if (!m) throw new Error('expected days and hours like "Mon-Fri 07:00-16:00"');
  const weekdays = new Set<number>();
  for (const part of m[1]!
    .toLowerCase()
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [from, to] = part.split('-').map((s) => names.indexOf(s.trim().slice(0, 3)));
    if (from === undefined || from < 0 || (to !== undefined && to < 0)) throw new Error(`unknown day in "${part}"`);
    const last = to ?? from;
    for (let d = from; ; d = (d + 1) % 7) {
      weekdays.add(d + 1);
      if (d === last) break;
    }
  }
  const startMin = Number(m[2]) * 60 + Number(m[3]);
  const endMin = Number(m[4]) * 60 + Number(m[5]);
  if (startMin >= endMin || endMin > 24 * 60) throw new Error('the working day must start before it ends, within one day');
  return { weekdays: [...weekdays].sort(), startMin, endMin };
}

/** The longest range one entry of a holiday list may span (a typo like 2026/2027 must not expand to years). */
const MAX_HOLIDAY_RANGE_DAYS = 366;

function parseCalendarDay(text: string): LocalDay {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) throw new Error(`"${text}" is not a date like 2026-12-25`);
  // A day that does not exist (2026-02-30) comes back as another one.
  if (dayFromUtcFields(new Date(parseDay(text))) !== text) throw new Error(`"${text}" is not a day of the calendar`);
  return text;
}

/**
 * Parses a list of non-working days: ISO dates separated by commas (or spaces), and
 * inclusive ranges written as ISO intervals, "2026-12-24/2026-12-26". An empty text is
 * no holidays. The days are report days, in REPORT_TZ.
 */
export function parseHolidays(text: string): Set<LocalDay> {
  const days = new Set<LocalDay>();
  for (const entry of text.split(/[\s,]+/).filter(Boolean)) {
    const [first, last, extra] = entry.split('/');
    if (extra !== undefined) throw new Error(`"${entry}" is not a date or a range like 2026-12-24/2026-12-26`);
    const from = parseCalendarDay(first!);
    const to = last === undefined ? from : parseCalendarDay(last);
    const span = daysBetween(from, to);
    if (span < 0) throw new Error(`"${entry}" ends before it starts`);
    if (span >= MAX_HOLIDAY_RANGE_DAYS) throw new Error(`"${entry}" spans more than ${MAX_HOLIDAY_RANGE_DAYS} days`);
    for (let i = 0; i <= span; i++) days.add(addDays(from, i));
  }
  return days;
}

/** True when the instant lies inside the working hours (in the report zone), on a day that is not a holiday. */
export function isWorkingTime(tz: string, hours: WorkingHours, utcMs: number): boolean {
  // By arithmetic on the local time's milliseconds (the alert rules ask for every reading):
  // day 0, 1970-01-01, was a Thursday, ISO weekday 4.
  const localMs = utcMs + tzOffsetMs(tz, utcMs);
  const day = Math.floor(localMs / DAY_MS);
  const isoWeekday = ((((day + 3) % 7) + 7) % 7) + 1;
  if (!hours.weekdays.includes(isoWeekday)) return false;
  const minute = Math.floor((localMs - day * DAY_MS) / 60_000);
  if (minute < hours.startMin || minute >= hours.endMin) return false;
  // Only now the day's name: most instants were settled above without building a string.
  return !(hours.holidays && hours.holidays.size > 0 && hours.holidays.has(dayFromUtcFields(new Date(localMs))));
}
