/** Time spans in seconds, and the roundings readings and records are printed with. */
import type { LatLon } from '../kupang.js';

export const HOUR_S = 3600;
export const DAY_S = 86_400;

export const round1 = (x: number) => Math.round(x * 10) / 10;
export const round2 = (x: number) => Math.round(x * 100) / 100;
/** Six decimals of a degree: about 0.1 m. */
export const round6LatLon = (p: LatLon): LatLon => ({ lat: Math.round(p.lat * 1e6) / 1e6, lon: Math.round(p.lon * 1e6) / 1e6 });
