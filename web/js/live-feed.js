// The live feed (GET /api/v1/live as a WebSocket): a snapshot, then position batches and
// alerts. Reconnects with a growing, jittered delay and counts the seconds down.

import { Unauthorized, errorText } from './api.js';

/**
 * handlers: { state(state, { seconds, why }), snapshot(vehicles), positions(list), alert(a), open(), unauthorized() }
 */
export function connectLiveFeed(api, handlers) {
  let socket = null;
  let retryTimer = null;
  let countdownTimer = null;
  let attempt = 0;
  let stopped = false;

  function connect() {
    if (stopped) return;
    handlers.state(attempt === 0 ? 'connecting' : 'reconnecting', {});
    const { url, protocols } = api.live();
    const ws = new WebSocket(url, protocols);
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      attempt = 0;
      handlers.state('live', {});
      handlers.open?.();
    };
    ws.onmessage = (event) => {
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (msg.type === 'snapshot') handlers.snapshot(msg.vehicles);
      else if (msg.type === 'positions') handlers.positions(msg.positions);
      else if (msg.type === 'alert') handlers.alert?.(msg);
    };
    ws.onclose = async () => {
      if (socket !== ws || stopped) return;
      socket = null;
      // A refused upgrade looks like any failed connection to a page: ask the REST API whether the key still holds.
      let why = '';
      if (!opened) {
        try {
          await api.get('/departments');
        } catch (err) {
          if (err instanceof Unauthorized) return;
          why = errorText(err);
        }
      }
      if (stopped) return;
      attempt += 1;
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(attempt - 1, 5)) * (0.75 + Math.random() * 0.5);
      let left = Math.round(delay / 1000);
      handlers.state('reconnecting', { seconds: left, why });
      // Two timers kept apart: a browser's timer id is a number, nothing can hang off it.
      countdownTimer = setInterval(() => {
        left -= 1;
        if (left > 0) handlers.state('reconnecting', { seconds: left, why });
      }, 1000);
      retryTimer = setTimeout(() => {
        clearInterval(countdownTimer);
        countdownTimer = null;
        connect();
      }, delay);
    };
  }

  connect();
  return {
    get open() {
      return socket?.readyState === WebSocket.OPEN;
    },
    /** Narrows the feed to these departments (null: all the key may see). */
    subscribe(departmentIds) {
      if (socket?.readyState === WebSocket.OPEN)
        socket.send(JSON.stringify({ type: 'subscribe', ...(departmentIds ? { departmentIds } : {}) }));
    },
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(countdownTimer);
      socket?.close();
      socket = null;
    },
  };
}
