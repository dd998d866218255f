/**
 * Seeded randomness for the simulator: the same seed gives the same numbers on every
 * platform. The model never calls Math.random; each vehicle draws from streams named
 * after its id and a purpose, so adding a vehicle or changing one option does not
 * shift the numbers every other decision sees.
 */

export type Rng = () => number;

/** mulberry32: tiny, fast, good enough for a simulation, and identical on every platform. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the text, so that a stream depends on names and not on list positions. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A stream named by its parts: `stream(seed, deviceId, 'move')`. */
export function stream(...parts: Array<string | number>): Rng {
  return mulberry32(hash32(parts.join('|')));
}

export function uniform(rng: Rng, min: number, max: number): number {
  return min + (max - min) * rng();
}

export function uniformInt(rng: Rng, min: number, max: number): number {
  return Math.min(max, min + Math.floor(rng() * (max - min + 1)));
}

export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** Box-Muller; one standard normal deviate per call (two uniforms). */
export function gaussian(rng: Rng): number {
  const u = Math.max(rng(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Waiting time of a Poisson process with `ratePerS` events per second. */
export function exponential(rng: Rng, ratePerS: number): number {
  return -Math.log(Math.max(rng(), Number.EPSILON)) / ratePerS;
}

/** Uniform on a log scale: many short values, a few long ones (outages, parking). */
export function logUniform(rng: Rng, min: number, max: number): number {
  return min * Math.exp(rng() * Math.log(max / min));
}
