/** The strict ISO instant rule knows the calendar: every day that exists, and none that does not. */
import { parseIsoInstant } from '../../src/rules/iso-instant';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

describe('parseIsoInstant', () => {
  it.each([1900, 2000, 2023, 2024, 2100, 2400])('accepts exactly the real days of %i (leap years by the Gregorian rule)', (year) => {
    for (let month = 1; month <= 12; month++) {
      for (let day = 1; day <= 31; day++) {
        const text = `${year}-${pad(month)}-${pad(day)}T12:00:00Z`;
        const real = new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day; // Date.UTC rolls a missing day over
        expect([text, parseIsoInstant(text)]).toEqual([text, real ? Date.UTC(year, month - 1, day, 12) : undefined]);
      }
    }
  });

  it.each([
    ['month 13', '2026-13-01T00:00:00Z'],
    ['hour 24', '2026-01-01T24:00:00Z'],
    ['minute 60', '2026-01-01T23:60:00Z'],
    ['second 60', '2026-01-01T23:59:60Z'],
    ['offset hour 24', '2026-01-01T00:00:00+24:00'],
    ['no zone', '2026-01-01T00:00:00'],
  ])('refuses %s', (_name, text) => {
    expect(parseIsoInstant(text)).toBeUndefined();
  });

  it('reads offsets and fractions', () => {
    expect(parseIsoInstant('2026-01-01T01:00:00.250+01:00')).toBe(Date.UTC(2026, 0, 1, 0, 0, 0, 250));
    expect(parseIsoInstant('2026-01-01T00:00Z')).toBe(Date.UTC(2026, 0, 1));
  });
});
