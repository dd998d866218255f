/**
 * Kupang's geography as the simulator needs it: the city's extent, a rough north
 * coastline (the Bay of Kupang) so that vehicles stay on land, and named places
 * vehicles drive between. Coordinates are approximate (within a few hundred metres);
 * they only have to look right on a map.
 */

export interface LatLon {
  lat: number;
  lon: number;
}

export type PlaceKind = 'office' | 'market' | 'hospital' | 'education' | 'transport' | 'shopping' | 'depot' | 'neighbourhood' | 'fuel';

export interface Place extends LatLon {
  name: string;
  kind: PlaceKind;
}

export const KUPANG_CENTRE: LatLon = { lat: -10.1702, lon: 123.6078 };

export const KUPANG_BOUNDS = { minLat: -10.29, maxLat: -10.12, minLon: 123.53, maxLon: 123.68 } as const;

/**
 * The shoreline from Tenau in the west to Lasiana in the east, west to east: north of
 * it is sea. West of the old town the coast bends south-west towards Tenau.
 */
const COASTLINE: readonly LatLon[] = [
  { lon: 123.52, lat: -10.19 },
  { lon: 123.54, lat: -10.18 },
  { lon: 123.555, lat: -10.168 },
  { lon: 123.57, lat: -10.16 },
  { lon: 123.58, lat: -10.156 },
  { lon: 123.6, lat: -10.15 },
  { lon: 123.62, lat: -10.143 },
  { lon: 123.64, lat: -10.138 },
  { lon: 123.66, lat: -10.133 },
  { lon: 123.69, lat: -10.128 },
];

export const kupangPlaces: readonly Place[] = [
  { name: 'Bandara El Tari', kind: 'transport', lat: -10.1716, lon: 123.6711 },
  { name: 'Pelabuhan Tenau', kind: 'transport', lat: -10.199, lon: 123.533 },
  { name: 'Terminal Kota Lama', kind: 'transport', lat: -10.1595, lon: 123.578 },
  { name: 'Kantor Wali Kota Kupang', kind: 'office', lat: -10.158, lon: 123.606 },
  { name: 'Kantor Gubernur NTT', kind: 'office', lat: -10.1648, lon: 123.6085 },
  { name: 'Kantor Camat Alak', kind: 'office', lat: -10.178, lon: 123.561 },
  { name: 'Pasar Kuanino', kind: 'market', lat: -10.1712, lon: 123.5885 },
  { name: 'Pasar Oeba', kind: 'market', lat: -10.1555, lon: 123.5995 },
  { name: 'Pasar Oebobo', kind: 'market', lat: -10.1665, lon: 123.6135 },
  { name: 'Pasar Oesapa', kind: 'market', lat: -10.1455, lon: 123.638 },
  { name: 'RSUD Prof. Dr. W.Z. Johannes', kind: 'hospital', lat: -10.165, lon: 123.587 },
  { name: 'Siloam Hospitals Kupang', kind: 'hospital', lat: -10.1625, lon: 123.62 },
  { name: 'Puskesmas Oepoi', kind: 'hospital', lat: -10.173, lon: 123.618 },
  { name: 'Universitas Nusa Cendana', kind: 'education', lat: -10.154, lon: 123.665 },
  { name: 'Lippo Plaza Kupang', kind: 'shopping', lat: -10.1605, lon: 123.6165 },
  { name: 'TPA Alak', kind: 'depot', lat: -10.188, lon: 123.545 },
  { name: 'Pantai Lasiana', kind: 'neighbourhood', lat: -10.1395, lon: 123.664 },
  { name: 'Liliba', kind: 'neighbourhood', lat: -10.17, lon: 123.642 },
  { name: 'Oepura', kind: 'neighbourhood', lat: -10.178, lon: 123.606 },
  { name: 'Bakunase', kind: 'neighbourhood', lat: -10.182, lon: 123.596 },
  { name: 'Sikumana', kind: 'neighbourhood', lat: -10.2, lon: 123.6 },
  { name: 'Naimata', kind: 'neighbourhood', lat: -10.185, lon: 123.64 },
  { name: 'Kolhua', kind: 'neighbourhood', lat: -10.211, lon: 123.621 },
  { name: 'Fatukoa', kind: 'neighbourhood', lat: -10.245, lon: 123.608 },
  { name: 'SPBU Pertamina Jl. El Tari', kind: 'fuel', lat: -10.1655, lon: 123.605 },
  { name: 'SPBU Pertamina Naikoten', kind: 'fuel', lat: -10.169, lon: 123.596 },
  { name: 'SPBU Pertamina Oesapa', kind: 'fuel', lat: -10.148, lon: 123.645 },
  { name: 'SPBU Pertamina Penfui', kind: 'fuel', lat: -10.164, lon: 123.658 },
  { name: 'SPBU Pertamina Namosain', kind: 'fuel', lat: -10.1835, lon: 123.553 },
  { name: 'SPBU Pertamina Sikumana', kind: 'fuel', lat: -10.195, lon: 123.606 },
];

export const kupangFuelStations: readonly Place[] = kupangPlaces.filter((p) => p.kind === 'fuel');

export const kupangDestinations: readonly Place[] = kupangPlaces.filter((p) => p.kind !== 'fuel');

const METRES_PER_DEGREE_LAT = 111_320;

function metresPerDegreeLon(lat: number): number {
  return METRES_PER_DEGREE_LAT * Math.cos((lat * Math.PI) / 180);
}

/** Latitude of the shoreline at a longitude (linear between the points, flat beyond them). */
export function coastLatAt(lon: number): number {
  const first = COASTLINE[0]!;
  const last = COASTLINE[COASTLINE.length - 1]!;
  if (lon <= first.lon) return first.lat;
  if (lon >= last.lon) return last.lat;
  for (let i = 1; i < COASTLINE.length; i++) {
    const b = COASTLINE[i]!;
    if (lon <= b.lon) {
      const a = COASTLINE[i - 1]!;
      return a.lat + ((lon - a.lon) / (b.lon - a.lon)) * (b.lat - a.lat);
    }
  }
  return last.lat;
}

/** Inside the city's extent and at least `marginM` from its edge and from the sea. */
export function isOnLand(p: LatLon, marginM = 0): boolean {
  const dLat = marginM / METRES_PER_DEGREE_LAT;
  const dLon = marginM / metresPerDegreeLon(p.lat);
  return (
    p.lat >= KUPANG_BOUNDS.minLat + dLat &&
    p.lat <= Math.min(KUPANG_BOUNDS.maxLat, coastLatAt(p.lon)) - dLat &&
    p.lon >= KUPANG_BOUNDS.minLon + dLon &&
    p.lon <= KUPANG_BOUNDS.maxLon - dLon
  );
}

/** The nearest point (moving north-south for the coast) that is on land with the margin. */
export function clampToLand(p: LatLon, marginM: number): LatLon {
  const dLat = marginM / METRES_PER_DEGREE_LAT;
  const dLon = marginM / metresPerDegreeLon(p.lat);
  const lon = Math.min(Math.max(p.lon, KUPANG_BOUNDS.minLon + dLon), KUPANG_BOUNDS.maxLon - dLon);
  const northLimit = Math.min(KUPANG_BOUNDS.maxLat, coastLatAt(lon)) - dLat;
  const lat = Math.min(Math.max(p.lat, KUPANG_BOUNDS.minLat + dLat), northLimit);
  return { lat, lon };
}

/** Equirectangular distance: exact enough over a city a few tens of kilometres across. */
export function distanceM(a: LatLon, b: LatLon): number {
  const meanLat = (a.lat + b.lat) / 2;
  const northM = (b.lat - a.lat) * METRES_PER_DEGREE_LAT;
  const eastM = (b.lon - a.lon) * metresPerDegreeLon(meanLat);
  return Math.hypot(northM, eastM);
}

/** Compass bearing from a to b, 0 = north, clockwise, in [0, 360). */
export function bearingDeg(a: LatLon, b: LatLon): number {
  const meanLat = (a.lat + b.lat) / 2;
  const northM = (b.lat - a.lat) * METRES_PER_DEGREE_LAT;
  const eastM = (b.lon - a.lon) * metresPerDegreeLon(meanLat);
  const deg = (Math.atan2(eastM, northM) * 180) / Math.PI;
  return (deg + 360) % 360;
}

export function offsetM(p: LatLon, northM: number, eastM: number): LatLon {
  return { lat: p.lat + northM / METRES_PER_DEGREE_LAT, lon: p.lon + eastM / metresPerDegreeLon(p.lat) };
}

export function interpolate(a: LatLon, b: LatLon, fraction: number): LatLon {
  return { lat: a.lat + (b.lat - a.lat) * fraction, lon: a.lon + (b.lon - a.lon) * fraction };
}
