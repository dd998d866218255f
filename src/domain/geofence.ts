/**
 * Geofences as GeoJSON polygons (RFC 7946: [lon, lat] positions, the first ring the
 * outside, further rings holes), and the point-in-polygon test for them.
 */
import { z } from 'zod';

/** Positions in one geofence, all rings together: the test of each reading walks them all. */
export const MAX_GEOFENCE_VERTICES = 10_000;
/** Geofences per department (and city-wide ones, together): each is tested against every reading. */
export const MAX_GEOFENCES_PER_DEPARTMENT = 100;

/** Every position of the geometry, rings and polygons together. */
export function vertexCount(geometry: GeofenceGeometry): number {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  return polygons.reduce((n, rings) => n + rings.reduce((m, ring) => m + ring.length, 0), 0);
}

const position = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]);
const ring = z
  .array(position)
  .min(4)
  .refine((r) => r[0]![0] === r[r.length - 1]![0] && r[0]![1] === r[r.length - 1]![1], { message: 'a ring must end where it starts' });

export const geofenceGeometrySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Polygon'), coordinates: z.array(ring).min(1).max(50) }),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(ring).min(1).max(50)).min(1).max(50) }),
]);
export type GeofenceGeometry = z.infer<typeof geofenceGeometrySchema>;

/** Ray casting; a point exactly on an edge may fall either way, which a GPS fix cannot tell apart anyway. */
function inRing(lon: number, lat: number, r: ReadonlyArray<readonly [number, number]>): boolean {
  let inside = false;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
    const [xi, yi] = r[i]!;
    const [xj, yj] = r[j]!;
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

type Rings = ReadonlyArray<ReadonlyArray<readonly [number, number]>>;

function inPolygon(lon: number, lat: number, rings: Rings): boolean {
  if (!inRing(lon, lat, rings[0]!)) return false;
  return !rings.slice(1).some((hole) => inRing(lon, lat, hole));
}

/** A polygon's outer ring's bounding box: [minLon, minLat, maxLon, maxLat]. */
type Box = readonly [number, number, number, number];

function boxOf(ring: ReadonlyArray<readonly [number, number]>): Box {
  let [minLon, minLat, maxLon, maxLat] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [lon, lat] of ring) {
    if (lon < minLon) minLon = lon;
    if (lon > maxLon) maxLon = lon;
    if (lat < minLat) minLat = lat;
    if (lat > maxLat) maxLat = lat;
  }
  return [minLon, minLat, maxLon, maxLat];
}

/**
 * Each polygon with its box, worked out once per geometry object: the alert engine tests
 * every reading against the same loaded geofences, and most readings are far from most
 * fences, so the box answers without walking the vertices.
 */
const prepared = new WeakMap<GeofenceGeometry, Array<{ box: Box; rings: Rings }>>();

function polygonsOf(geometry: GeofenceGeometry): Array<{ box: Box; rings: Rings }> {
  let polygons = prepared.get(geometry);
  if (!polygons) {
    const list: Rings[] = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
    polygons = list.map((rings) => ({ box: boxOf(rings[0]!), rings }));
    prepared.set(geometry, polygons);
  }
  return polygons;
}

export function containsPoint(geometry: GeofenceGeometry, lat: number, lon: number): boolean {
  return polygonsOf(geometry).some(
    ({ box, rings }) => lon >= box[0] && lat >= box[1] && lon <= box[2] && lat <= box[3] && inPolygon(lon, lat, rings),
  );
}

/**
 * Kota Kupang, roughly: from Tenau harbour in the west along the coast of Kupang Bay to
 * the east of El Tari airport, and south over the hills to the city's edge. Good enough
 * to tell "in the city" from "on the road to Soe"; replace it through the API with the
 * official boundary for anything finer.
 */
export const KUPANG_CITY_BOUNDARY: GeofenceGeometry = {
  type: 'Polygon',
  coordinates: [
    [
      [123.525, -10.195],
      [123.55, -10.175],
      [123.575, -10.155],
      [123.6, -10.148],
      [123.625, -10.14],
      [123.655, -10.13],
      [123.685, -10.125],
      [123.69, -10.16],
      [123.685, -10.22],
      [123.66, -10.27],
      [123.62, -10.295],
      [123.57, -10.29],
      [123.535, -10.25],
      [123.525, -10.195],
    ],
  ],
};
