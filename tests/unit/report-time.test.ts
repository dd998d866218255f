import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  dayRangeMs,
  daysBetween,
  daysOverlapping,
  isWorkingTime,
  lastDayOfMonth,
  localDayOf,
  monthOf,
  nextMonth,
  parseHolidays,
  parseWorkingHours,
  tzOffsetMs,
  wholeMonthsWithin,
} from '../../src/domain/report-time.js';

describe('report days', () => {
  it('puts a WITA day at 16:00 UTC the evening before', () => {
    expect(tzOffsetMs('Asia/Makassar', Date.UTC(2026, 10, 27))).toBe(8 * 3_600_000);
    expect(dayRangeMs('Asia/Makassar', '2026-11-27')).toEqual({ startMs: Date.UTC(2026, 10, 26, 16), endMs: Date.UTC(2026, 10, 27, 16) });
    expect(localDayOf('Asia/Makassar', Date.UTC(2026, 10, 26, 15, 59, 59, 999))).toBe('2026-11-26');
    expect(localDayOf('Asia/Makassar', Date.UTC(2026, 10, 26, 16))).toBe('2026-11-27');
  });

  it('lists the days a period overlaps, across month and year ends', () => {
    expect(daysOverlapping('Asia/Makassar', Date.UTC(2026, 11, 31, 15), Date.UTC(2027, 0, 1, 17))).toEqual([
      '2026-12-31',
      '2027-01-01',
      '2027-01-02',
    ]);
    expect(daysOverlapping('Asia/Makassar', Date.UTC(2026, 11, 31, 16), Date.UTC(2027, 0, 1, 16))).toEqual(['2027-01-01']);
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(daysBetween('2026-01-01', '2027-01-01')).toBe(365);
  });

  it('has 23- and 25-hour days where clocks change', () => {
    const spring = dayRangeMs('Europe/Berlin', '2026-03-29');
    expect(spring.endMs - spring.startMs).toBe(23 * 3_600_000);
    const autumn = dayRangeMs('Europe/Berlin', '2026-10-25');
    expect(autumn.endMs - autumn.startMs).toBe(25 * 3_600_000);
    expect(localDayOf('Europe/Berlin', autumn.startMs)).toBe('2026-10-25');
    expect(localDayOf('Europe/Berlin', autumn.endMs - 1)).toBe('2026-10-25');
  });
});

describe('working hours', () => {
  const hours = parseWorkingHours('Mon-Fri 07:00-16:00');
  it('parses day ranges and lists', () => {
    expect(hours).toEqual({ weekdays: [1, 2, 3, 4, 5], startMin: 420, endMin: 960 });
    expect(parseWorkingHours('Sat,Mon 08:30-12:00')).toEqual({ weekdays: [1, 6], startMin: 510, endMin: 720 });
    expect(parseWorkingHours('Fri-Mon 08:00-09:00').weekdays).toEqual([1, 5, 6, 7]);
    expect(() => parseWorkingHours('weekdays')).toThrow();
    expect(() => parseWorkingHours('Mon-Fri 16:00-07:00')).toThrow();
  });

  it('judges instants in the report zone', () => {
    // Friday 2026-11-27, 07:00 WITA = 23:00 UTC on Thursday.
    expect(isWorkingTime('Asia/Makassar', hours, Date.UTC(2026, 10, 26, 23))).toBe(true);
    expect(isWorkingTime('Asia/Makassar', hours, Date.UTC(2026, 10, 26, 22, 59))).toBe(false);
    expect(isWorkingTime('Asia/Makassar', hours, Date.UTC(2026, 10, 27, 8))).toBe(false); // 16:00 WITA
    expect(isWorkingTime('Asia/Makassar', hours, Date.UTC(2026, 10, 28, 2))).toBe(false); // Saturday 10:00
  });

  it('agrees with the local calendar read through Date, before 1970 too and in a zone with daylight saving', () => {
    // The reference the arithmetic replaced: the local time's weekday and minute by Date's own fields.
    const reference = (tz: string, h: { weekdays: number[]; startMin: number; endMin: number }, utcMs: number) => {
      const local = new Date(utcMs + tzOffsetMs(tz, utcMs));
      const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
      return h.weekdays.includes(((local.getUTCDay() + 6) % 7) + 1) && minute >= h.startMin && minute < h.endMin;
    };
    fc.assert(
      fc.property(
        fc.constantFrom('Asia/Makassar', 'Europe/Berlin', 'America/St_Johns', 'UTC'),
        fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 0, max: 1439 }),
        fc.integer({ min: 1, max: 1440 }),
        fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2100, 0, 1) }),
        (tz, weekdays, a, b, utcMs) => {
          const h = { weekdays, startMin: Math.min(a, b - 1), endMin: Math.max(a + 1, b) };
          expect(isWorkingTime(tz, h, utcMs)).toBe(reference(tz, h, utcMs));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('holidays', () => {
  it('parses dates and inclusive ranges, and names what is wrong', () => {
    expect([...parseHolidays('')]).toEqual([]);
    expect([...parseHolidays('2026-12-25, 2026-08-17')].sort()).toEqual(['2026-08-17', '2026-12-25']);
    expect([...parseHolidays('2026-12-30/2027-01-01,2026-12-31')].sort()).toEqual(['2026-12-30', '2026-12-31', '2027-01-01']);
    expect(() => parseHolidays('2026-02-30')).toThrow('2026-02-30');
    expect(() => parseHolidays('25/12/2026')).toThrow();
    expect(() => parseHolidays('2026-12-26/2026-12-24')).toThrow('ends before it starts');
    expect(() => parseHolidays('2026-01-01/2028-01-01')).toThrow('more than 366 days');
    expect(() => parseHolidays('2026-12-25/2026-12-26/2026-12-27')).toThrow();
  });

  it('makes a holiday a non-working day in the report zone, from local midnight to midnight', () => {
    // Christmas 2026 is a Friday: a working weekday, off as a holiday.
    const hours = { ...parseWorkingHours('Mon-Fri 07:00-16:00'), holidays: parseHolidays('2026-12-25') };
    const plain = parseWorkingHours('Mon-Fri 07:00-16:00');
    const christmas10Wita = Date.UTC(2026, 11, 25, 2);
    expect(isWorkingTime('Asia/Makassar', plain, christmas10Wita)).toBe(true);
    expect(isWorkingTime('Asia/Makassar', hours, christmas10Wita)).toBe(false);
    // 07:00 WITA on Christmas Eve and Boxing Day are 23:00 UTC the day before: still working days.
    expect(isWorkingTime('Asia/Makassar', hours, Date.UTC(2026, 11, 23, 23))).toBe(true);
    expect(isWorkingTime('Asia/Makassar', hours, Date.UTC(2026, 11, 24, 23))).toBe(false); // 25th, 07:00 WITA
    expect(isWorkingTime('Asia/Makassar', hours, Date.UTC(2026, 11, 27, 23))).toBe(true); // Monday 28th, 07:00 WITA
    // The day is the report zone's: 2026-12-25 10:00 UTC is 18:00 WITA but 09:00 on the 25th in London.
    expect(isWorkingTime('Europe/London', hours, Date.UTC(2026, 11, 25, 9))).toBe(false);
    expect(isWorkingTime('Europe/London', hours, Date.UTC(2026, 11, 24, 9))).toBe(true);
  });
});

describe('months', () => {
  it('finds a day’s month, the next month and a month’s last day, across year ends and leap years', () => {
    expect(monthOf('2026-12-06')).toBe('2026-12-01');
    expect(nextMonth('2026-12-01')).toBe('2027-01-01');
    expect(nextMonth('2026-01-01')).toBe('2026-02-01');
    expect(lastDayOfMonth('2028-02-01')).toBe('2028-02-29');
    expect(lastDayOfMonth('2026-02-01')).toBe('2026-02-28');
    expect(lastDayOfMonth('2026-12-01')).toBe('2026-12-31');
  });

  it('lists the months that lie wholly inside a run of days, and none when no month fits', () => {
    expect(wholeMonthsWithin('2026-01-01', '2026-03-31')).toEqual(['2026-01-01', '2026-02-01', '2026-03-01']);
    expect(wholeMonthsWithin('2026-01-02', '2026-03-30')).toEqual(['2026-02-01']);
    expect(wholeMonthsWithin('2026-11-15', '2027-02-28')).toEqual(['2026-12-01', '2027-01-01', '2027-02-01']);
    expect(wholeMonthsWithin('2028-02-01', '2028-02-28')).toEqual([]);
    expect(wholeMonthsWithin('2026-05-10', '2026-05-20')).toEqual([]);
  });
});
