/**
 * Kupang's geography as the simulator needs it: the city's extent, a rough north
 * coastline (the Bay of Kupang and the coast east towards Oelamasi) so that vehicles
 * stay on land, named places vehicles drive between, the departments' home bases,
 * places outside the city, and the roads out of it. Coordinates are approximate
 * (within a few hundred metres); they only have to look right on a map.
 */

export interface LatLon {
  lat: number;
  lon: number;
}

export type PlaceKind =
  | 'office'
  | 'market'
  | 'hospital'
  | 'education'
  | 'transport'
  | 'shopping'
  | 'depot'
  | 'neighbourhood'
  | 'fuel'
  | 'landfill'
  | 'town';

export interface Place extends LatLon {
  name: string;
  kind: PlaceKind;
}

/** The city: a vehicle outside this box has left Kupang. */
export const KUPANG_BOUNDS = { minLat: -10.29, maxLat: -10.12, minLon: 123.53, maxLon: 123.68 } as const;

/** The part of West Timor the simulator drives in: the city and the roads out of it. */
export const REGION_BOUNDS = { minLat: -10.4, maxLat: -9.95, minLon: 123.4, maxLon: 124.05 } as const;

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
  { lon: 123.72, lat: -10.12 },
  { lon: 123.76, lat: -10.105 },
  { lon: 123.8, lat: -10.09 },
  { lon: 123.86, lat: -10.07 },
  { lon: 123.95, lat: -10.04 },
  { lon: 124.05, lat: -10.0 },
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
  { name: 'TPA Alak', kind: 'landfill', lat: -10.188, lon: 123.545 },
  { name: 'Kantor Dinas Perhubungan', kind: 'office', lat: -10.1635, lon: 123.5985 },
  { name: 'Kantor Dinas Kesehatan', kind: 'office', lat: -10.17, lon: 123.6005 },
  { name: 'Kantor Dinas PUPR', kind: 'office', lat: -10.162, lon: 123.612 },
  { name: 'Markas BPBD dan Damkar', kind: 'office', lat: -10.16, lon: 123.595 },
  { name: 'Pool Kendaraan DLHK', kind: 'depot', lat: -10.18, lon: 123.575 },
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

/**
 * A station's SPBU number as receipts print it and the station register keys it
 * (54.851.NN, in the order above). Illustrative numbers, not the stations' real ones.
 */
export function fuelStationCode(station: Place): string {
  const index = kupangFuelStations.indexOf(station);
  if (index < 0) throw new Error(`${station.name} is not a fuel station`);
  return `54.851.${String(index + 1).padStart(2, '0')}`;
}

/** Where errands go: everything but fuel stations, the landfill and the garbage depot. */
export const kupangDestinations: readonly Place[] = kupangPlaces.filter(
  (p) => p.kind !== 'fuel' && p.kind !== 'landfill' && p.kind !== 'depot',
);

/** Where garbage is collected: markets and neighbourhoods. */
export const kupangCollectionPoints: readonly Place[] = kupangPlaces.filter((p) => p.kind === 'market' || p.kind === 'neighbourhood');

/** Places outside the city that official trips (and private ones) go to. */
export const outOfCityPlaces: readonly Place[] = [
  { name: 'Oesao', kind: 'town', lat: -10.175, lon: 123.8 },
  { name: 'Oelamasi', kind: 'town', lat: -10.1, lon: 123.87 },
  { name: 'Pantai Tablolong', kind: 'town', lat: -10.318, lon: 123.468 },
  { name: 'Baumata', kind: 'town', lat: -10.235, lon: 123.695 },
];

/**
 * Where the roads leave the city: Jl. Timor Raya to the east, the road to Baumata to
 * the south-east and the road through Kupang Barat to the south-west. Trips out of the
 * city pass through the gate nearest their destination.
 */
export const cityGates: readonly LatLon[] = [
  { lat: -10.14, lon: 123.69 },
  { lat: -10.205, lon: 123.675 },
  { lat: -10.215, lon: 123.525 },
];

export function placeByName(name: string): Place | undefined {
  return kupangPlaces.find((p) => p.name === name) ?? outOfCityPlaces.find((p) => p.name === name);
}

export function isInKupang(p: LatLon): boolean {
  return p.lat >= KUPANG_BOUNDS.minLat && p.lat <= KUPANG_BOUNDS.maxLat && p.lon >= KUPANG_BOUNDS.minLon && p.lon <= KUPANG_BOUNDS.maxLon;
}

export function nearestPlace(from: LatLon, places: readonly Place[]): Place {
  let best = places[0];
  if (!best) throw new Error('nearest of no places');
  for (const p of places) if (distanceM(p, from) < distanceM(best, from)) best = p;
  return best;
}

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

/** Inside the simulated region and at least `marginM` from its edge and from the sea. */
export function isOnLand(p: LatLon, marginM = 0): boolean {
  const dLat = marginM / METRES_PER_DEGREE_LAT;
  const dLon = marginM / metresPerDegreeLon(p.lat);
  return (
    p.lat >= REGION_BOUNDS.minLat + dLat &&
    p.lat <= Math.min(REGION_BOUNDS.maxLat, coastLatAt(p.lon)) - dLat &&
    p.lon >= REGION_BOUNDS.minLon + dLon &&
    p.lon <= REGION_BOUNDS.maxLon - dLon
  );
}

/** The nearest point (moving north-south for the coast) that is on land with the margin. */
export function clampToLand(p: LatLon, marginM: number): LatLon {
  const dLat = marginM / METRES_PER_DEGREE_LAT;
  const dLon = marginM / metresPerDegreeLon(p.lat);
  const lon = Math.min(Math.max(p.lon, REGION_BOUNDS.minLon + dLon), REGION_BOUNDS.maxLon - dLon);
  const northLimit = Math.min(REGION_BOUNDS.maxLat, coastLatAt(lon)) - dLat;
  const lat = Math.min(Math.max(p.lat, REGION_BOUNDS.minLat + dLat), northLimit);
  return { lat, lon };
}

/**
 * A plausible altitude: Kupang rises from the bay to the limestone plateau inland,
 * roughly 12 m per kilometre from the shore, levelling off near 250 m.
 */
export function altitudeM(p: LatLon): number {
  const inlandKm = Math.max(0, ((coastLatAt(p.lon) - p.lat) * METRES_PER_DEGREE_LAT) / 1000);
  return 3 + 250 * (1 - Math.exp(-inlandKm / 20));
}

/** Great-circle distance, for tracks far from Kupang (GPX replay) and long legs. */
export function haversineM(a: LatLon, b: LatLon): number {
  const R = 6_371_008.8;
  const toRad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * toRad;
  const dLon = (b.lon - a.lon) * toRad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * toRad) * Math.cos(b.lat * toRad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
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
