/**
 * The jump filter's memory on its own: each vehicle's newest accepted fix, the fixes
 * rejected as jumps, the start from the committed latest positions, and the drop after
 * a failed commit.
 */
import { describe, expect, it } from 'vitest';
import { createJumpMemory, JUMPS_REMEMBERED, type Fix } from '../../src/ingest/jump-memory.js';

const T0 = Date.parse('2026-11-28T02:00:00Z');
const fix = (seconds: number, lat = -10.17): Fix => ({ fixAtMs: T0 + seconds * 1000, lat, lon: 123.6 });

describe('the newest fix', () => {
  it('moves only forward in fix time', () => {
    const memory = createJumpMemory();
    expect(memory.newest('veh-1')).toBeUndefined();
    memory.accept('veh-1', fix(10));
    memory.accept('veh-1', fix(5, -9));
    expect(memory.newest('veh-1')).toEqual(fix(10));
    memory.accept('veh-1', fix(20, -9));
    expect(memory.newest('veh-1')).toEqual(fix(20, -9));
    expect(memory.newest('veh-2')).toBeUndefined();
  });

  it('keeps a copy, not the reading it was given', () => {
    const memory = createJumpMemory();
    const reading = { ...fix(10), speedKmh: 30 };
    memory.accept('veh-1', reading);
    reading.fixAtMs = 0;
    expect(memory.newest('veh-1')).toEqual(fix(10));
  });
});

describe('the committed latest positions', () => {
  it('are read once before the first batch, not again while nothing failed', async () => {
    let loads = 0;
    const memory = createJumpMemory(async () => (loads++, [['veh-1', fix(30)] as const]));
    expect(memory.newest('veh-1')).toBeUndefined();
    await memory.ready();
    await memory.ready();
    expect(loads).toBe(1);
    expect(memory.newest('veh-1')).toEqual(fix(30));
  });

  it('after forget(), what was learnt is dropped and the committed fixes are read again', async () => {
    let loads = 0;
    const memory = createJumpMemory(async () => (loads++, [['veh-1', fix(30)] as const]));
    await memory.ready();
    memory.accept('veh-1', fix(40));
    memory.accept('veh-2', fix(40));
    memory.forget();
    expect(memory.newest('veh-1')).toBeUndefined();
    await memory.ready();
    expect(loads).toBe(2);
    expect(memory.newest('veh-1')).toEqual(fix(30));
    expect(memory.newest('veh-2')).toBeUndefined();
  });

  it('a failed read rejects, and is tried again at the next batch', async () => {
    let fail = true;
    const memory = createJumpMemory(async () => {
      if (fail) throw new Error('database away');
      return [['veh-1', fix(30)] as const];
    });
    await expect(memory.ready()).rejects.toThrow('database away');
    fail = false;
    await memory.ready();
    expect(memory.newest('veh-1')).toEqual(fix(30));
  });

  it('without a loader, forget() just starts empty', async () => {
    const memory = createJumpMemory();
    memory.accept('veh-1', fix(10));
    memory.forget();
    await memory.ready();
    expect(memory.newest('veh-1')).toBeUndefined();
  });
});

describe('the fixes rejected as jumps', () => {
  it('are remembered per vehicle, and survive forget()', () => {
    const memory = createJumpMemory(async () => []);
    memory.rememberJump('veh-1', fix(20).fixAtMs);
    memory.rememberJump('veh-1', fix(20).fixAtMs);
    expect(memory.wasJump('veh-1', fix(20).fixAtMs)).toBe(true);
    expect(memory.wasJump('veh-1', fix(21).fixAtMs)).toBe(false);
    expect(memory.wasJump('veh-2', fix(20).fixAtMs)).toBe(false);
    memory.forget();
    expect(memory.wasJump('veh-1', fix(20).fixAtMs)).toBe(true);
  });

  it(`keep the newest ${JUMPS_REMEMBERED} per vehicle`, () => {
    const memory = createJumpMemory();
    for (let i = 0; i <= JUMPS_REMEMBERED; i++) memory.rememberJump('veh-1', fix(i).fixAtMs);
    expect(memory.wasJump('veh-1', fix(0).fixAtMs)).toBe(false);
    expect(memory.wasJump('veh-1', fix(1).fixAtMs)).toBe(true);
    expect(memory.wasJump('veh-1', fix(JUMPS_REMEMBERED).fixAtMs)).toBe(true);
  });

  it('a repeated one does not push an older one out', () => {
    const memory = createJumpMemory();
    for (let i = 0; i < JUMPS_REMEMBERED; i++) memory.rememberJump('veh-1', fix(i).fixAtMs);
    memory.rememberJump('veh-1', fix(5).fixAtMs);
    expect(memory.wasJump('veh-1', fix(0).fixAtMs)).toBe(true);
  });
});
