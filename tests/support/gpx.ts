/** A small GPX 1.1 track reader for the test fixtures: track points with time and elevation. */
import { readFileSync } from 'node:fs';

export interface GpxPoint {
  lat: number;
  lon: number;
  timeMs: number;
  elevationM: number | null;
}

export function parseGpx(xml: string): GpxPoint[] {
  const points: GpxPoint[] = [];
  const trkpt = /<trkpt\b([^>]*)>([\s\S]*?)<\/trkpt>/g;
  for (let m = trkpt.exec(xml); m; m = trkpt.exec(xml)) {
    const attrs = m[1]!;
    const body = m[2]!;
    const lat = Number(/\blat="([^"]+)"/.exec(attrs)?.[1]);
    const lon = Number(/\blon="([^"]+)"/.exec(attrs)?.[1]);
    const time = /<time>([^<]+)<\/time>/.exec(body)?.[1];
    const ele = /<ele>([^<]+)<\/ele>/.exec(body)?.[1];
    if (!Number.isFinite(lat) || !Number.isFinite(lon) || !time) throw new Error('a track point without lat, lon or time');
    points.push({ lat, lon, timeMs: Date.parse(time), elevationM: ele === undefined ? null : Number(ele) });
  }
  return points;
}

export function readGpx(path: string): GpxPoint[] {
  return parseGpx(readFileSync(path, 'utf8'));
}
