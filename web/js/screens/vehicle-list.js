// The live map's vehicle list, virtual: all vehicles are in `order`, but only the rows in
// view (and a few around) exist in the page, placed at their index × ROW_H. A position
// rewrites a row only when that row is shown; with 5,000 vehicles moving, the page keeps
// some forty rows instead of 40,000 elements that every frame would have to lay out.
// Rows in view are kept from one render to the next (a scroll moves or reuses them).
//
// Keyboard and screen readers: the markers are drawn on a canvas, so this list is the way to
// reach a vehicle without a pointer. It is one listbox, one tab stop: its options are the
// rows, the active one named by aria-activedescendant (a row may be recycled while scrolling,
// so the focus stays on the list itself). Arrow keys, Page Up/Down, Home and End move the
// active row (scrolled into view); Enter or Space opens it (`onOpen`).

import { fmt, t } from '../i18n.js';

export const ROW_H = 58;
const OVERSCAN = 8;

const speedText = (v) => (v.speedKmh == null ? '–' : String(Math.round(v.speedKmh)));
const fuelText = (v) => (v.fuelLitres == null ? '–' : fmt.n1(v.fuelLitres));
const setText = (node, text) => {
  if (node.textContent !== text) node.textContent = text;
};

const rowId = (vehicleId) => `vrow-${vehicleId}`;

export function createVehicleList({ scroller, body, vehicles, label, departmentName, onOpen }) {
  let order = [];
  const rendered = new Map(); // vehicleId -> row
  const pool = [];
  let selected = null;
  /** The row the keyboard is on (a vehicle id), shown with an outline while the list has the focus. */
  let active = null;
  let frame = 0;
  body.setAttribute('role', 'listbox');
  body.tabIndex = 0;

  function build() {
    const tr = document.createElement('div');
    tr.className = 'vrow';
    tr.setAttribute('role', 'option');
    const cell = (cls) => Object.assign(document.createElement('span'), { className: cls });
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
    if (r.tr.dataset.vehicleId !== v.vehicleId) {
      r.tr.dataset.vehicleId = v.vehicleId;
      r.tr.id = rowId(v.vehicleId);
    }
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
    r.tr.classList.toggle('active', v.vehicleId === active);
    r.tr.setAttribute('aria-selected', v.vehicleId === selected ? 'true' : 'false');
  }

  /** Shows the rows in view; `changed` (ids) are rewritten if shown, new rows always. */
  function render(changed) {
    frame = 0;
    body.style.height = `${order.length * ROW_H}px`;
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
        r.tr.setAttribute('aria-posinset', String(i + 1));
      }
      if (r.tr.getAttribute('aria-setsize') !== String(order.length)) r.tr.setAttribute('aria-setsize', String(order.length));
      if (fresh || !changed || changed.has(id)) fill(r, vehicles.get(id));
    }
    // The active row, if it is still listed (a filter may have taken it out).
    if (active && rendered.has(active)) body.setAttribute('aria-activedescendant', rowId(active));
    else body.removeAttribute('aria-activedescendant');
  }

  /** Scrolls the row at `i` into view (if it is not) and shows the rows there. */
  function reveal(i) {
    const top = body.offsetTop + i * ROW_H;
    if (top < scroller.scrollTop + body.offsetTop || top + ROW_H > scroller.scrollTop + scroller.clientHeight)
      scroller.scrollTop = top - scroller.clientHeight / 2;
    render(new Set());
  }

  /** Makes the vehicle at index `i` (clamped) the active row. */
  function activate(i) {
    if (order.length === 0) return;
    const next = order[Math.max(0, Math.min(order.length - 1, i))];
    const prev = active && rendered.get(active);
    if (prev) prev.tr.classList.remove('active');
    active = next;
    rendered.get(active)?.tr.classList.add('active');
    reveal(order.indexOf(active));
  }

  const page = () => Math.max(1, Math.floor(scroller.clientHeight / ROW_H) - 1);
  function onKey(event) {
    const i = active ? order.indexOf(active) : -1;
    const moves = {
      ArrowDown: i + 1,
      ArrowUp: i < 0 ? 0 : i - 1,
      PageDown: i + page(),
      PageUp: Math.max(0, i - page()),
      Home: 0,
      End: order.length - 1,
    };
    if (event.key in moves) {
      event.preventDefault();
      activate(moves[event.key]);
    } else if ((event.key === 'Enter' || event.key === ' ') && active && i >= 0) {
      event.preventDefault();
      onOpen(active);
    }
  }
  /** Focus coming to the list: the selected vehicle's row, or the first, is the active one. */
  function onFocus() {
    if (active && order.includes(active)) return reveal(order.indexOf(active));
    activate(selected && order.includes(selected) ? order.indexOf(selected) : 0);
  }
  body.addEventListener('keydown', onKey);
  body.addEventListener('focus', onFocus);

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
      // The vehicle chosen (on the map, in an alert) is where the keyboard carries on from.
      if (order.includes(id)) {
        rendered.get(active)?.tr.classList.remove('active');
        active = id;
      }
      for (const [rid, r] of rendered) {
        r.tr.classList.toggle('selected', rid === id);
        r.tr.classList.toggle('active', rid === active);
        r.tr.setAttribute('aria-selected', rid === id ? 'true' : 'false');
      }
      const i = order.indexOf(id);
      if (scrollTo && i >= 0) reveal(i);
      else render(new Set());
    },
    /** Gives the list the keyboard focus, on the selected vehicle's row. */
    focus() {
      body.focus();
    },
    remove() {
      cancelAnimationFrame(frame);
      body.removeEventListener('keydown', onKey);
      body.removeEventListener('focus', onFocus);
      scroller.removeEventListener('scroll', onScroll);
      resize.disconnect();
    },
  };
}
