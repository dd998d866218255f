import { describe, expect, it } from 'vitest';
import { addDays, dayRangeMs, daysBetween, daysOverlapping, isWorkingTime, localDayOf, parseWorkingHours, tzOffsetMs } from '../../src/domain/report-time.js';

describe('report days', () => {
  it('puts a WITA day at 16:00 UTC the evening before', () => {
    expect(tzOffsetMs('Asia/Makassar', Date.UTC(2026, 10, 27))).toBe(8 * 3_600_000);
    expect(dayRangeMs('Asia/Makassar', '2026-11-27')).toEqual({ startMs: Date.UTC(2026, 10, 26, 16), endMs: Date.UTC(2026, 10, 27, 16) });
    expect(localDayOf('Asia/Makassar', Date.UTC(2026, 10, 26, 15, 59, 59, 999))).toBe('2026-11-26');
    expect(localDayOf('Asia/Makassar', Date.UTC(2026, 10, 26, 16))).toBe('2026-11-27');
  });

  it('lists the days a period overlaps, across month and year ends', () => {
    expect(daysOverlapping('Asia/Makassar', Date.UTC(2026, 11, 31, 15), Date.UTC(2027, 0, 1, 17))).toEqual(['2026-12-31', '2027-01-01', '2027-01-02']);
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
});
