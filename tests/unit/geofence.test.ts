/** Geofence geometry: the bounding box is checked before the point-in-polygon walk; the answers stay the same. */
import { describe, expect, it } from 'vitest';
import { containsPoint, vertexCount, type GeofenceGeometry } from '../../src/domain/geofence.js';

type Ring = Array<[number, number]>;

/** A ring that counts how often its positions are read. */
function countingRing(ring: Ring): { ring: Ring; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(ring, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) reads++;
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { ring: proxy, reads: () => reads };
}

/** A ring of n positions around (lon, lat), radius r degrees. */
function circle(lon: number, lat: number, r: number, n: number): Ring {
  const ring: Ring = [];
  for (let i = 0; i < n; i++) ring.push([lon + r * Math.cos((2 * Math.PI * i) / n), lat + r * Math.sin((2 * Math.PI * i) / n)]);
  ring.push([...ring[0]!]);
  return ring;
}

describe('containsPoint', () => {
  it('answers a point outside the bounding box without reading the vertices', () => {
    const outer = countingRing(circle(123.6, -10.2, 0.1, 2000));
    const geometry: GeofenceGeometry = { type: 'Polygon', coordinates: [outer.ring] };
    expect(containsPoint(geometry, -10.2, 123.6)).toBe(true); // works the box out once
    const before = outer.reads();
    expect(containsPoint(geometry, -8.5, 124.9)).toBe(false); // far away: Alor, not Kupang
    expect(containsPoint(geometry, -10.2, 123.3)).toBe(false); // same latitude, west of the box
    expect(outer.reads() - before).toBe(0);
    // Inside the box, the walk decides.
    expect(containsPoint(geometry, -10.2, 123.6)).toBe(true);
    expect(outer.reads() - before).toBeGreaterThan(0);
  });

  it('keeps holes and multipolygons as they were: inside the box is not inside the fence', () => {
    const hole = circle(123.6, -10.2, 0.03, 50).reverse();
    const square: Ring = [
      [123.5, -10.3],
      [123.7, -10.3],
      [123.7, -10.1],
      [123.5, -10.1],
      [123.5, -10.3],
    ];
    const triangle: Ring = [
      [124, -9],
      [124.2, -9],
      [124, -8.8],
      [124, -9],
    ];
    const geometry: GeofenceGeometry = { type: 'MultiPolygon', coordinates: [[square, hole], [triangle]] };
    expect(containsPoint(geometry, -10.25, 123.55)).toBe(true);
    expect(containsPoint(geometry, -10.2, 123.6)).toBe(false); // in the hole
    expect(containsPoint(geometry, -8.95, 124.05)).toBe(true); // in the triangle
    expect(containsPoint(geometry, -8.81, 124.19)).toBe(false); // in the triangle's box, not in it
    expect(vertexCount(geometry)).toBe(5 + 51 + 4);
  });
});
