// The fleet on one canvas over the Leaflet map: arrows (or dots without a heading) in the
// status colours, clusters with their count and status mix below CLUSTER_BELOW_ZOOM
// (supercluster), plates only from LABELS_FROM_ZOOM on, or for the vehicle under the
// pointer and the selected one. One canvas instead of a DOM marker per vehicle keeps
// 5,000 moving vehicles cheap: a frame is one pass over what is in view.

import Supercluster from '../../vendor/supercluster.js';

export const STATUS_COLOURS = { moving: '#2e9e44', idle: '#c98f00', stopped: '#6e7781', offline: '#d73a3a' };
export const STATUSES = ['moving', 'idle', 'stopped', 'offline'];
export const CLUSTER_BELOW_ZOOM = 15;
export const LABELS_FROM_ZOOM = 16;
/** The cluster index is rebuilt at most this often while vehicles move (their own dots are always current). */
const CLUSTER_REBUILD_MS = 1000;
const R = 9;

export function createVehicleLayer(map, { label, onClick, tooltip }) {
  const pane = map.getPane('vehicles') ?? map.createPane('vehicles');
  pane.style.zIndex = 620; // above overlays and markers, below tooltips and popups
  pane.style.pointerEvents = 'none';
  const canvas = L.DomUtil.create('canvas', 'vehicle-canvas', pane);
  const ctx = canvas.getContext('2d');
  let vehicles = new Map();
  let shown = () => true;
  let index = null;
  let indexBuiltAt = -Infinity;
  let indexDirty = true;
  let selected = null;
  let hovered = null;
  let frame = 0;
  let catchUp = 0;
  /** What the last frame drew, for the pointer: [{ id?, cluster?, x, y, r }]. */
  let drawn = [];
  /** vehicleId → the container point where its marker was last drawn (absent while clustered or out of view). */
  const drawnAt = new Map();
  const stats = { frames: 0, lastDrawMs: 0, collectLatency: false, latenciesMs: [], lastAt: new Map() };
  const hoverTip = L.tooltip({ direction: 'top', offset: [0, -R - 2], className: 'vm-tooltip' });

  function resize() {
    const size = map.getSize();
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== size.x * dpr || canvas.height !== size.y * dpr) {
      canvas.width = size.x * dpr;
      canvas.height = size.y * dpr;
      canvas.style.width = `${size.x}px`;
      canvas.style.height = `${size.y}px`;
    }
    return dpr;
  }

  function buildIndex() {
    const points = [];
    for (const v of vehicles.values()) {
      if (!shown(v)) continue;
      points.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [v.lon, v.lat] },
        properties: { id: v.vehicleId, status: v.status },
      });
    }
    index = new Supercluster({
      radius: 50,
      maxZoom: CLUSTER_BELOW_ZOOM - 1,
      map: (p) => ({
        moving: +(p.status === 'moving'),
        idle: +(p.status === 'idle'),
        stopped: +(p.status === 'stopped'),
        offline: +(p.status === 'offline'),
      }),
      reduce: (acc, p) => {
        acc.moving += p.moving;
        acc.idle += p.idle;
        acc.stopped += p.stopped;
        acc.offline += p.offline;
      },
    }).load(points);
    indexBuiltAt = performance.now();
    indexDirty = false;
  }

  function drawVehicle(v, x, y) {
    ctx.fillStyle = STATUS_COLOURS[v.status] ?? STATUS_COLOURS.stopped;
    ctx.strokeStyle = v.vehicleId === selected ? '#0969da' : '#fff';
    ctx.lineWidth = v.vehicleId === selected ? 3 : 2;
    ctx.beginPath();
    if (v.headingDeg != null) {
      const a = (v.headingDeg * Math.PI) / 180;
      const pt = (dx, dy) => ctx.lineTo(x + dx * Math.cos(a) - dy * Math.sin(a), y + dx * Math.sin(a) + dy * Math.cos(a));
      ctx.moveTo(x + 12 * Math.sin(a), y - 12 * Math.cos(a));
      pt(10, 11);
      pt(0, 5);
      pt(-10, 11);
      ctx.closePath();
    } else {
      ctx.arc(x, y, 8, 0, Math.PI * 2);
    }
    ctx.fill();
    ctx.stroke();
  }

  function drawLabel(text, x, y) {
    ctx.font = '600 11px system-ui, sans-serif';
    const w = ctx.measureText(text).width + 8;
    ctx.fillStyle = 'rgba(255,255,255,0.9)';
    ctx.strokeStyle = '#8c959f';
    ctx.lineWidth = 1;
    ctx.fillRect(x - w / 2, y + R + 3, w, 15);
    ctx.strokeRect(x - w / 2, y + R + 3, w, 15);
    ctx.fillStyle = '#1f2328';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(text, x, y + R + 11);
  }

  function drawCluster(c, x, y) {
    const p = c.properties;
    const n = p.point_count;
    const r = Math.min(30, 13 + Math.log2(n) * 3);
    let start = -Math.PI / 2;
    for (const s of STATUSES) {
      if (!p[s]) continue;
      const end = start + (p[s] / n) * Math.PI * 2;
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.arc(x, y, r, start, end);
      ctx.closePath();
      ctx.fillStyle = STATUS_COLOURS[s];
      ctx.fill();
      start = end;
    }
    ctx.beginPath();
    ctx.arc(x, y, r * 0.62, 0, Math.PI * 2);
    ctx.fillStyle = '#fff';
    ctx.fill();
    ctx.fillStyle = '#1f2328';
    ctx.font = `700 ${n >= 1000 ? 10 : 12}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(String(n), x, y);
    drawn.push({ cluster: c, x, y, r });
  }

  /** Draws the frame now. */
  function draw() {
    const t0 = performance.now();
    frame = 0;
    const dpr = resize();
    const topLeft = map.containerPointToLayerPoint([0, 0]);
    L.DomUtil.setPosition(canvas, topLeft);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const size = map.getSize();
    ctx.clearRect(0, 0, size.x, size.y);
    drawn = [];
    // A vehicle that comes out of a cluster is drawn with a fix it got while clustered: its wait
    // says nothing about the live feed, so only vehicles drawn in the frame before are timed.
    const before = stats.collectLatency ? new Set(drawnAt.keys()) : null;
    drawnAt.clear();
    const zoom = map.getZoom();
    const labels = zoom >= LABELS_FROM_ZOOM;
    const pad = 30;
    const inView = (pt) => pt.x > -pad && pt.y > -pad && pt.x < size.x + pad && pt.y < size.y + pad;
    const singles = [];
    if (zoom < CLUSTER_BELOW_ZOOM) {
      if (!index || (indexDirty && t0 - indexBuiltAt > CLUSTER_REBUILD_MS)) buildIndex();
      // Rebuilt too recently: a later frame catches up even if no position comes meanwhile.
      else if (indexDirty && !catchUp)
        catchUp = setTimeout(() => ((catchUp = 0), requestDraw()), CLUSTER_REBUILD_MS - (t0 - indexBuiltAt) + 5);
      const b = map.getBounds().pad(0.1);
      for (const c of index.getClusters([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], Math.floor(zoom))) {
        if (c.properties.cluster) {
          const pt = map.latLngToContainerPoint([c.geometry.coordinates[1], c.geometry.coordinates[0]]);
          drawCluster(c, pt.x, pt.y);
        } else {
          const v = vehicles.get(c.properties.id);
          if (v && shown(v)) singles.push(v);
        }
      }
    } else {
      for (const v of vehicles.values()) if (shown(v)) singles.push(v);
    }
    const wall = stats.collectLatency ? Date.now() : 0;
    let selectedPoint = null;
    for (const v of singles) {
      const pt = map.latLngToContainerPoint([v.lat, v.lon]);
      if (!inView(pt)) continue;
      drawVehicle(v, pt.x, pt.y);
      drawn.push({ id: v.vehicleId, x: pt.x, y: pt.y, r: R + 3 });
      drawnAt.set(v.vehicleId, { x: pt.x, y: pt.y, at: v.at });
      if (labels) drawLabel(label(v), pt.x, pt.y);
      else if (v.vehicleId === hovered || v.vehicleId === selected) selectedPoint = [v, pt];
      if (wall && stats.lastAt.get(v.vehicleId) !== v.at) {
        const seen = stats.lastAt.has(v.vehicleId) && before.has(v.vehicleId);
        stats.lastAt.set(v.vehicleId, v.at);
        if (seen && stats.latenciesMs.length < 200_000) stats.latenciesMs.push(wall - Date.parse(v.at));
      }
    }
    if (selectedPoint) drawLabel(label(selectedPoint[0]), selectedPoint[1].x, selectedPoint[1].y);
    stats.frames += 1;
    stats.lastDrawMs = performance.now() - t0;
  }

  function requestDraw() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function hit(containerPoint) {
    let best = null;
    let bestD = Infinity;
    for (const d of drawn) {
      const dist = Math.hypot(d.x - containerPoint.x, d.y - containerPoint.y);
      if (dist <= d.r && dist < bestD) {
        best = d;
        bestD = dist;
      }
    }
    return best;
  }

  const onMove = (e) => {
    const h = hit(e.containerPoint);
    const id = h?.id ?? null;
    map.getContainer().classList.toggle('over-vehicle', h !== null);
    if (id !== hovered) {
      hovered = id;
      if (id) {
        const v = vehicles.get(id);
        hoverTip.setLatLng([v.lat, v.lon]).setContent(tooltip(v));
        if (!map.hasLayer(hoverTip)) hoverTip.addTo(map);
      } else if (map.hasLayer(hoverTip)) {
        map.removeLayer(hoverTip);
      }
      requestDraw();
    }
  };
  const onClickMap = (e) => {
    const h = hit(e.containerPoint);
    if (!h) return;
    if (h.cluster) {
      const [lon, lat] = h.cluster.geometry.coordinates;
      map.setView([lat, lon], Math.max(index.getClusterExpansionZoom(h.cluster.properties.cluster_id), map.getZoom() + 1));
    } else {
      onClick(h.id);
    }
  };
  const hide = () => (canvas.style.visibility = 'hidden');
  const show = () => {
    canvas.style.visibility = '';
    draw();
  };
  map.on('mousemove', onMove);
  map.on('click', onClickMap);
  map.on('zoomstart', hide);
  map.on('zoomend', show);
  map.on('moveend resize viewreset', requestDraw);

  return {
    /** The vehicles (a Map the caller keeps updating) and which of them to show. */
    setVehicles(map_, filter) {
      vehicles = map_;
      shown = filter ?? (() => true);
      indexDirty = true;
      index = null;
      requestDraw();
    },
    /** Positions or statuses changed: clusters follow within CLUSTER_REBUILD_MS. */
    changed() {
      indexDirty = true;
    },
    /** The filter changed: clusters are rebuilt at once. */
    refilter(filter) {
      if (filter) shown = filter;
      index = null;
      requestDraw();
    },
    select(id) {
      selected = id;
      requestDraw();
    },
    /** The tooltip of a vehicle (after a click in the list or on the map), with the caller's content. */
    openTooltip(v, content) {
      hoverTip.setLatLng([v.lat, v.lon]).setContent(content);
      if (!map.hasLayer(hoverTip)) hoverTip.addTo(map);
    },
    draw,
    requestDraw,
    drawnAt,
    stats,
    remove() {
      cancelAnimationFrame(frame);
      clearTimeout(catchUp);
      map.off('mousemove', onMove);
      map.off('click', onClickMap);
      map.off('zoomstart', hide);
      map.off('zoomend', show);
      map.off('moveend resize viewreset', requestDraw);
      canvas.remove();
      hoverTip.remove();
    },
  };
}
