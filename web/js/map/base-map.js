// A Leaflet map of Kupang (Leaflet is the global `L`, from vendor/leaflet/leaflet.js):
// OpenStreetMap tiles when the internet is there, and the geofences (the city boundary)
// drawn from the API, so a map without tiles still shows where the city is.

import { t } from '../i18n.js';

export const KUPANG = [-10.1702, 123.6078];

export function createMap(el, { zoom = 13 } = {}) {
  const map = L.map(el, { zoomControl: false }).setView(KUPANG, zoom);
  L.control.zoom({ zoomInTitle: t('map.zoomIn'), zoomOutTitle: t('map.zoomOut') }).addTo(map);
  const tiles = L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', {
    maxZoom: 19,
    attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
  }).addTo(map);
  // Without the internet the tiles fail: say so once, and keep everything else working.
  let told = false;
  tiles.on('tileerror', () => {
    if (told) return;
    told = true;
    const note = L.control({ position: 'bottomleft' });
    note.onAdd = () => Object.assign(L.DomUtil.create('div', 'map-note'), { textContent: t('map.tilesMissing'), role: 'status' });
    note.addTo(map);
  });
  return map;
}

/** Draws the geofences the key may see; city-wide ones (no department) as the city boundary. */
export async function drawGeofences(map, api) {
  const fences = await api.get('/geofences');
  const group = L.layerGroup();
  for (const g of fences) {
    const layer = L.geoJSON(g.geometry, {
      interactive: false,
      style: g.departmentId
        ? { color: '#8250df', weight: 2, dashArray: '4 4', fill: false }
        : { color: '#0969da', weight: 2, dashArray: '8 6', fillColor: '#0969da', fillOpacity: 0.03 },
    });
    layer.addTo(group);
  }
  group.addTo(map);
  return group;
}
