// Vehicle history: a vehicle picked by its plate and a day or range (WITA); its route on
// the map, its trips and stops (click one to zoom), a fuel-level chart (uPlot) with the
// refuels and drains marked and linked to the map, and a replay along the route.

import uPlot from '../../vendor/uplot.js';
import { errorText, query } from '../api.js';
import { dayEndIso, dayStartIso, fmt, t, todayWita } from '../i18n.js';
import { createMap } from '../map/base-map.js';
import { navigate } from '../router.js';
import { html, render, useEffect, useLayoutEffect, useRef, useState, useLang } from '../ui.js';
import { ErrorLine, PeriodFields, periodEnd } from './common.js';

const MAX_DAYS = 31;
const REPLAY_SPEEDS = [10, 60, 300, 1200];
const REPLAY_TICK_MS = 100;

function daysBetween(a, b) {
  return Math.round((Date.parse(b) - Date.parse(a)) / 86_400_000);
}

const summary = (fuel, trips) =>
  t('history.summary', {
    km: fmt.n1(fuel.distanceKm),
    litres: fmt.n1(fuel.fuelUsedLitres),
    source: t(`source.${fuel.fuelSource}`),
    trips,
  });

function History({ ctx, route }) {
  useLang();
  const { api, ref } = ctx;
  const id = route.id;
  const fromDay = route.params.from ?? todayWita();
  const toDay = route.params.to ?? fromDay;
  const vehicle = id ? ref.fleet.get(id) : null;
  const [plate, setPlate] = useState(vehicle?.plateNumber ?? '');
  const [from, setFrom] = useState(fromDay);
  const [to, setTo] = useState(toDay);
  const [formError, setFormError] = useState('');
  const [data, setData] = useState(null);
  const [loadError, setLoadError] = useState('');
  const [loading, setLoading] = useState(false);
  const mapEl = useRef(null);
  const chartEl = useRef(null);
  const m = useRef({});
  const [replay, setReplay] = useState({ idx: 0, playing: false, speed: 60 });

  useEffect(() => {
    setPlate(vehicle?.plateNumber ?? '');
    setFrom(fromDay);
    setTo(toDay);
  }, [id, fromDay, toDay]);

  // The map lives as long as the screen (a layout effect: the route's, below, needs it first).
  useLayoutEffect(() => {
    const map = createMap(mapEl.current);
    m.current = { map, layers: L.layerGroup().addTo(map) };
    window.armadaDebug = { map, history: m.current };
    return () => {
      map.remove();
      delete window.armadaDebug;
    };
  }, []);

  // Load the vehicle's period.
  useEffect(() => {
    if (!id) return;
    let cancelled = false;
    setLoading(true);
    setLoadError('');
    setData(null);
    setReplay((r) => ({ ...r, idx: 0, playing: false }));
    const period = query({ from: dayStartIso(fromDay), to: periodEnd(dayEndIso(toDay)) });
    Promise.all([
      api.get(`/vehicles/${id}/track${period}&limit=100000`),
      api.get(`/vehicles/${id}/trips${period}`),
      api.get(`/vehicles/${id}/stops${period}`),
      api.get(`/vehicles/${id}/fuel${period}`),
    ])
      .then(([track, trips, stops, fuel]) => {
        if (cancelled) return;
        const points = track.features.map((f) => ({
          atMs: Date.parse(f.properties.at),
          lat: f.geometry.coordinates[1],
          lon: f.geometry.coordinates[0],
          ...f.properties,
        }));
        setData({ points, truncated: track.truncated, trips, stops, fuel });
      })
      .catch((err) => !cancelled && setLoadError(t('err.load', { why: errorText(err) })))
      .finally(() => !cancelled && setLoading(false));
    return () => {
      cancelled = true;
    };
  }, [id, fromDay, toDay]);

  // Route, stops and the replay marker on the map, in the same commit as the rest of the
  // page: after paint (useEffect), a refused vehicle's error could show for a frame beside
  // the previous vehicle's route.
  useLayoutEffect(() => {
    const { map, layers } = m.current;
    layers.clearLayers();
    m.current.replayMarker = null;
    m.current.cursor = null;
    if (!data || data.points.length === 0) return;
    const line = L.polyline(
      data.points.map((p) => [p.lat, p.lon]),
      { color: '#0969da', weight: 4, opacity: 0.8, className: 'route' },
    ).addTo(layers);
    for (const s of data.stops) {
      L.circleMarker([s.lat, s.lon], {
        radius: 6,
        color: '#fff',
        weight: 2,
        fillColor: '#6e7781',
        fillOpacity: 1,
        className: 'stop-marker',
      })
        .bindTooltip(`${fmt.timeShort(s.startAt)} · ${fmt.duration(s.durationS)}`)
        .addTo(layers);
    }
    for (const e of [...data.fuel.refuels.map((x) => [x, 'refuel']), ...data.fuel.drains.map((x) => [x, 'drain'])]) {
      L.circleMarker([e[0].lat, e[0].lon], {
        radius: 7,
        color: '#fff',
        weight: 2,
        fillColor: e[1] === 'refuel' ? '#2e9e44' : '#d73a3a',
        fillOpacity: 1,
      })
        .bindTooltip(t(`history.${e[1]}`, { litres: fmt.n1(e[0].litres) }))
        .addTo(layers);
    }
    const first = data.points[0];
    m.current.replayMarker = L.marker([first.lat, first.lon], {
      icon: L.divIcon({ className: 'replay-marker', html: '<span></span>', iconSize: [18, 18], iconAnchor: [9, 9] }),
      keyboard: false,
      interactive: false,
    }).addTo(layers);
    m.current.cursor = L.circleMarker([first.lat, first.lon], { radius: 8, color: '#8250df', weight: 3, fill: false, opacity: 0 }).addTo(
      layers,
    );
    map.fitBounds(line.getBounds(), { padding: [30, 30], animate: false });
  }, [data]);

  // The fuel chart.
  useEffect(() => {
    const el = chartEl.current;
    if (!el || !data) return;
    el.replaceChildren();
    const pts = data.points;
    if (!pts.some((p) => p.fuelLitres != null)) return;
    const events = [...data.fuel.refuels.map((e) => ({ ...e, kind: 'refuel' })), ...data.fuel.drains.map((e) => ({ ...e, kind: 'drain' }))];
    const chart = new uPlot(
      {
        width: Math.max(260, el.clientWidth),
        height: 180,
        legend: { show: false },
        scales: { x: { time: true } },
        series: [{}, { label: t('history.fuelChart'), stroke: '#0969da', width: 2, spanGaps: true, points: { show: false } }],
        axes: [{ values: (_u, vals) => vals.map((v) => fmt.clock(v * 1000)) }, { label: 'L' }],
        hooks: {
          setCursor: [
            (u) => {
              const i = u.cursor.idx;
              const c = m.current.cursor;
              if (i == null || !c) return;
              c.setLatLng([pts[i].lat, pts[i].lon]).setStyle({ opacity: 1 });
            },
          ],
          draw: [
            (u) => {
              const cx = u.ctx;
              for (const e of events) {
                const x = u.valToPos(Date.parse(e.at) / 1000, 'x', true);
                const y = u.valToPos(e.kind === 'refuel' ? e.levelAfterLitres : e.levelBeforeLitres, 'y', true);
                const s = 7 * devicePixelRatio;
                cx.beginPath();
                cx.fillStyle = e.kind === 'refuel' ? '#2e9e44' : '#d73a3a';
                if (e.kind === 'refuel') {
                  cx.moveTo(x, y - s);
                  cx.lineTo(x + s, y + s);
                  cx.lineTo(x - s, y + s);
                } else {
                  cx.moveTo(x, y + s);
                  cx.lineTo(x + s, y - s);
                  cx.lineTo(x - s, y - s);
                }
                cx.fill();
              }
            },
          ],
        },
      },
      [pts.map((p) => p.atMs / 1000), pts.map((p) => p.fuelLitres)],
      el,
    );
    m.current.chart = chart;
    return () => chart.destroy();
  }, [data]);

  // Replay: simulated time runs `speed` times faster than real time.
  useEffect(() => {
    if (!replay.playing || !data) return;
    const pts = data.points;
    const timer = setInterval(() => {
      setReplay((r) => {
        const target = pts[r.idx].atMs + REPLAY_TICK_MS * r.speed;
        let i = r.idx;
        while (i + 1 < pts.length && pts[i + 1].atMs <= target) i++;
        if (i === r.idx && i + 1 < pts.length) i++;
        return { ...r, idx: i, playing: i + 1 < pts.length };
      });
    }, REPLAY_TICK_MS);
    return () => clearInterval(timer);
  }, [replay.playing, data]);

  useEffect(() => {
    const p = data?.points[replay.idx];
    if (p && m.current.replayMarker) m.current.replayMarker.setLatLng([p.lat, p.lon]);
  }, [replay.idx, data]);

  function submit(event) {
    event.preventDefault();
    const wanted = plate.trim().toLowerCase().replace(/\s+/g, ' ');
    const found = [...ref.fleet.values()].find((v) => v.plateNumber.toLowerCase() === wanted);
    if (!wanted) return setFormError(t('history.pick'));
    if (!found) return setFormError(t('history.unknownPlate', { plate: plate.trim() }));
    if (to < from) return setFormError(t('period.invalid'));
    if (daysBetween(from, to) >= MAX_DAYS) return setFormError(t('err.load', { why: `≤ ${MAX_DAYS}` }));
    setFormError('');
    navigate('history', { id: found.id, from, to });
  }

  function zoomTo(startAt, endAt) {
    const pts = data.points.filter((p) => p.atMs >= Date.parse(startAt) && p.atMs <= Date.parse(endAt));
    if (pts.length > 1) m.current.map.fitBounds(L.latLngBounds(pts.map((p) => [p.lat, p.lon])), { padding: [40, 40], maxZoom: 17 });
    else if (pts.length === 1) m.current.map.setView([pts[0].lat, pts[0].lon], 16);
  }

  const plates = [...ref.fleet.values()].sort((a, b) => a.plateNumber.localeCompare(b.plateNumber, undefined, { numeric: true }));
  const pts = data?.points ?? [];
  const current = pts[replay.idx];
  const fuel = data?.fuel;
  return html`
    <div class="split">
      <section class="side" aria-labelledby="history-title">
        <h1 id="history-title">${t('nav.history')}${vehicle ? `: ${vehicle.plateNumber}` : ''}</h1>
        <form class="toolbar" onSubmit=${submit}>
          <label class="field"><span>${t('history.vehicle')}</span>
            <input id="history-plate" list="history-plates" value=${plate} autocomplete="off"
              onInput=${(e) => setPlate(e.currentTarget.value)} /></label>
          <datalist id="history-plates">${plates.map(
            (v) => html`<option
            value=${v.plateNumber}>${ref.departments.get(v.departmentId) ?? ''}</option>`,
          )}</datalist>
          <${PeriodFields} idPrefix="history" from=${from} to=${to} onFrom=${setFrom} onTo=${setTo} />
          <button type="submit" class="primary">${t('period.show')}</button>
        </form>
        <${ErrorLine} error=${formError || loadError} />
        ${!id && html`<p class="empty">${t('history.pick')}</p>`}
        ${loading && html`<p class="empty" role="status">${t('loading')}</p>`}
        ${
          data &&
          html`
          ${fuel && html`<p class="summary">${summary(fuel, data.trips.length)}</p>`}
          ${data.truncated && html`<p class="warning">${t('history.truncated')}</p>`}
          ${pts.length === 0 && html`<p class="empty">${t('history.noTrack')}</p>`}
          <h2>${t('history.fuelChart')}</h2>
          ${pts.some((p) => p.fuelLitres != null) ? null : html`<p class="empty">${t('history.noFuel')}</p>`}
          <div class="fuel-chart" ref=${chartEl} aria-hidden="true"></div>
          ${
            [...fuel.refuels.map((e) => [e, 'refuel']), ...fuel.drains.map((e) => [e, 'drain'])].length > 0 &&
            html`<ul class="events">
            ${[...fuel.refuels.map((e) => [e, 'refuel']), ...fuel.drains.map((e) => [e, 'drain'])].map(
              ([e, kind]) => html`<li class=${`event-${kind}`}><button type="button" class="link"
                onClick=${() => m.current.map.setView([e.lat, e.lon], 16)}>
                ${fmt.timeShort(e.at)} · ${t(`history.${kind}`, { litres: fmt.n1(e.litres) })}</button></li>`,
            )}
          </ul>`
          }
          ${
            pts.length > 1 &&
            html`<div class="replay" role="group" aria-label="Replay">
            <button type="button" id="replay-play" class="primary" onClick=${() =>
              setReplay((r) => ({ ...r, playing: !r.playing, idx: !r.playing && r.idx >= pts.length - 1 ? 0 : r.idx }))}>
              ${replay.playing ? t('history.pause') : t('history.play')}</button>
            <label class="field inline"><span>${t('history.speed')}</span>
              <select id="replay-speed" value=${replay.speed}
                onChange=${(e) => setReplay((r) => ({ ...r, speed: Number(e.currentTarget.value) }))}>
                ${REPLAY_SPEEDS.map((s) => html`<option value=${s}>${s}×</option>`)}
              </select></label>
            <input id="replay-position" type="range" min="0" max=${pts.length - 1} value=${replay.idx} aria-label=${t('history.position')}
              onInput=${(e) => setReplay((r) => ({ ...r, idx: Number(e.currentTarget.value) }))} />
            <output for="replay-position">
              ${current ? `${fmt.time(new Date(current.atMs).toISOString())} · ${fmt.n0(current.speedKmh)} ${t('map.speed')}` : ''}
            </output>
          </div>`
          }
          <h2>${t('history.trips')}</h2>
          ${
            data.trips.length === 0
              ? html`<p class="empty">${t('history.noTrips')}</p>`
              : html`<table class="grid trips">
                <thead><tr><th scope="col">${t('history.start')}</th><th scope="col">${t('history.end')}</th><th scope="col"
                  class="num">${t('history.km')}</th>
                  <th scope="col" class="num">${t('history.duration')}</th><th scope="col" class="num">${t('history.litres')}</th></tr>
                    </thead>
                <tbody>${data.trips.map(
                  (tr) => html`<tr>
                    <td><button type="button" class="link"
                      aria-label=${t('history.zoomTo', { what: `${t('history.trips')} ${fmt.timeShort(tr.startAt)}` })}
                      onClick=${() => zoomTo(tr.startAt, tr.endAt)}>${fmt.timeShort(tr.startAt)}</button>${
                        tr.partial
                          ? html` <span
                        class="muted" title=${t('history.partial')}>*</span>`
                          : ''
                      }</td>
                    <td>${fmt.timeShort(tr.endAt)}</td><td class="num">${fmt.n1(tr.distanceKm)}</td><td
                      class="num">${fmt.duration(tr.durationS)}</td><td class="num">${fmt.n1(tr.fuelUsedLitres)}</td>
                  </tr>`,
                )}</tbody></table>`
          }
          <h2>${t('history.stops')}</h2>
          ${
            data.stops.length === 0
              ? html`<p class="empty">${t('history.noStops')}</p>`
              : html`<table class="grid stops">
                <thead><tr><th scope="col">${t('history.start')}</th><th scope="col">${t('history.end')}</th><th scope="col"
                  class="num">${t('history.duration')}</th>
                  <th scope="col" class="num">${t('history.engineOn')}</th></tr></thead>
                <tbody>${data.stops.map(
                  (s) => html`<tr>
                    <td><button type="button" class="link"
                      onClick=${() => m.current.map.setView([s.lat, s.lon], 17)}>${fmt.timeShort(s.startAt)}</button></td>
                    <td>${fmt.timeShort(s.endAt)}</td><td class="num">${fmt.duration(s.durationS)}</td><td
                      class="num">${fmt.duration(s.engineOnS)}</td>
                  </tr>`,
                )}</tbody></table>`
          }
        `
        }
      </section>
      <div class="map" ref=${mapEl} role="region" aria-label=${t('map.label')}></div>
    </div>`;
}

export function mountHistory(el, ctx, route) {
  const draw = (r) => render(html`<${History} ctx=${ctx} route=${r} />`, el);
  draw(route);
  return { update: draw, unmount: () => render(null, el) };
}
