// The live map's vehicle list, virtual: all vehicles are in `order`, but only the rows in
// view (and a few around) exist in the page, placed at their index × ROW_H. A position
// rewrites a row only when that row is shown; with 5,000 vehicles moving, the page keeps
// some forty rows instead of 40,000 elements that every frame would have to lay out.
// Rows in view are kept from one render to the next (a scroll moves or reuses them).

import { fmt, t } from '../i18n.js';

export const ROW_H = 58;
const OVERSCAN = 8;

const speedText = (v) => (v.speedKmh == null ? '–' : String(Math.round(v.speedKmh)));
const fuelText = (v) => (v.fuelLitres == null ? '–' : fmt.n1(v.fuelLitres));
const setText = (node, text) => {
  if (node.textContent !== text) node.textContent = text;
};

export function createVehicleList({ scroller, body, table, vehicles, label, departmentName }) {
  let order = [];
  const rendered = new Map(); // vehicleId -> row
  const pool = [];
  let selected = null;
  let frame = 0;

  function build() {
    const tr = document.createElement('div');
    tr.className = 'vrow';
    tr.setAttribute('role', 'row');
    tr.tabIndex = 0;
    const cell = (cls) => {
      const c = Object.assign(document.createElement('span'), { className: cls });
      c.setAttribute('role', 'cell');
      return c;
    };
    const plateCell = cell('plate-cell');
    const plate = Object.assign(document.createElement('span'), { className: 'plate' });
    const dept = Object.assign(document.createElement('span'), { className: 'dept' });
    plateCell.append(plate, dept);
    const status = cell('status');
    const dot = Object.assign(document.createElement('span'), { className: 'dot' });
    const statusText = document.createTextNode('');
    status.append(dot, statusText);
    const speed = cell('num speed');
    const fuel = cell('num fuel');
    tr.append(plateCell, status, speed, fuel);
    return { tr, plate, dept, dot, statusText, speed, fuel, index: -1 };
  }

  function fill(r, v) {
    if (r.tr.dataset.vehicleId !== v.vehicleId) r.tr.dataset.vehicleId = v.vehicleId;
    setText(r.plate, label(v));
    setText(r.dept, departmentName(v));
    if (r.tr.dataset.status !== v.status) {
      r.tr.dataset.status = v.status;
      r.dot.dataset.status = v.status;
      r.statusText.textContent = ` ${t(`status.${v.status}`)}`;
    }
    setText(r.speed, speedText(v));
    setText(r.fuel, fuelText(v));
    r.tr.classList.toggle('selected', v.vehicleId === selected);
  }

  /** Shows the rows in view; `changed` (ids) are rewritten if shown, new rows always. */
  function render(changed) {
    frame = 0;
    body.style.height = `${order.length * ROW_H}px`;
    table.setAttribute('aria-rowcount', String(order.length + 1));
    const offset = body.offsetTop;
    const first = Math.max(0, Math.floor((scroller.scrollTop - offset) / ROW_H) - OVERSCAN);
    const last = Math.min(order.length, Math.ceil((scroller.scrollTop + scroller.clientHeight - offset) / ROW_H) + OVERSCAN);
    const wanted = new Set();
    for (let i = first; i < last; i++) wanted.add(order[i]);
    for (const [id, r] of rendered) {
      if (wanted.has(id)) continue;
      r.tr.remove();
      rendered.delete(id);
      r.index = -1;
      pool.push(r);
    }
    for (let i = first; i < last; i++) {
      const id = order[i];
      let r = rendered.get(id);
      const fresh = !r;
      if (!r) {
        r = pool.pop() ?? build();
        rendered.set(id, r);
        body.append(r.tr);
      }
      if (r.index !== i) {
        r.index = i;
        r.tr.style.transform = `translateY(${i * ROW_H}px)`;
        r.tr.setAttribute('aria-rowindex', String(i + 2));
      }
      if (fresh || !changed || changed.has(id)) fill(r, vehicles.get(id));
    }
  }

  const onScroll = () => {
    if (!frame) frame = requestAnimationFrame(() => render(new Set()));
  };
  scroller.addEventListener('scroll', onScroll, { passive: true });
  const resize = new ResizeObserver(onScroll);
  resize.observe(scroller);

  return {
    /** The vehicles to list, in this order (ids). */
    setOrder(ids) {
      order = ids;
      render();
    },
    get size() {
      return order.length;
    },
    /** These vehicles changed: their rows are rewritten if shown. */
    changed(ids) {
      render(ids);
    },
    select(id, scrollTo) {
      selected = id;
      for (const [rid, r] of rendered) r.tr.classList.toggle('selected', rid === id);
      const i = order.indexOf(id);
      if (scrollTo && i >= 0) {
        const top = body.offsetTop + i * ROW_H;
        if (top < scroller.scrollTop + body.offsetTop || top + ROW_H > scroller.scrollTop + scroller.clientHeight)
          scroller.scrollTop = top - scroller.clientHeight / 2;
        render(new Set());
      }
    },
    remove() {
      cancelAnimationFrame(frame);
      scroller.removeEventListener('scroll', onScroll);
      resize.disconnect();
    },
  };
}
