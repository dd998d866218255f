import { describe, expect, it } from 'vitest';
import { departmentDirectory } from '../../src/live/subscriber.js';

const OURS = '6f1c3a52-8d2e-4b7a-9c41-2e5f7a9b0c13';
const THEIRS = '0b9e4d71-3c2a-4f86-8e15-7a6c2d9f4b20';

describe("the live feed keeps to this deployment's departments", () => {
  it('remembers a department of ours, and asks about an unknown one again only after a while', async () => {
    let t = 0;
    const asked: string[] = [];
    const table = new Set([OURS]);
    const isOurs = departmentDirectory(
      async (id) => {
        asked.push(id);
        return table.has(id);
      },
      { unknownTtlMs: 5000, now: () => t },
    );
    expect(await isOurs(OURS)).toBe(true);
    expect(await isOurs(OURS)).toBe(true);
    expect(await isOurs(THEIRS)).toBe(false);
    expect(await isOurs(THEIRS)).toBe(false);
    expect(asked).toEqual([OURS, THEIRS]);
    // Created here meanwhile: seen once the unknown answer has expired.
    table.add(THEIRS);
    t = 5001;
    expect(await isOurs(THEIRS)).toBe(true);
    expect(asked).toEqual([OURS, THEIRS, THEIRS]);
  });

  it('drops what is not a department id at all without asking the database', async () => {
    const asked: string[] = [];
    const isOurs = departmentDirectory(async (id) => {
      asked.push(id);
      return true;
    });
    expect(await isOurs('not-a-uuid')).toBe(false);
    expect(await isOurs("x'; DROP TABLE departments; --")).toBe(false);
    expect(asked).toEqual([]);
  });
});
