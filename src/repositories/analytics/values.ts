/** Turning the driver's column values into numbers and instants, and instants into SQL text. */

export const iso = (ms: number) => new Date(ms).toISOString();

export const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));
export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
