/**
 * `npm run simulate -- [options]`: the device simulator's command line. Parses the
 * options (options.ts), optionally registers the fleet with Armada (api.ts), and runs
 * one of four modes — live, batch, load, replay — writing readings to a file and/or a
 * broker and the ground truth to a file. The only simulator file that reads the clock
 * for the model's start, handles signals or exits.
 */
import { readFile } from 'node:fs/promises';
import { createApi, createReceiptPoster, registerFleet, SIM_DEPARTMENT } from './api.js';
import { witaDate, WITA_OFFSET_MS } from './calendar.js';
import { runBatch } from './batch.js';
import type { SimMessage } from './fleet/index.js';
import { gpxReplay, parseGpx } from './gpx.js';
import { startLiveSimulation, type LiveDevice } from './live.js';
import { runLoad } from './load.js';
import { fleetModelOptions, parseCliOptions, USAGE, UsageError, type CliOptions } from './options.js';
import { JsonlWriter, messageLine, openMqttSink, type MqttSink } from './output.js';
import { createProgress } from './progress.js';
import { simulatedFleet } from './sim-fleet.js';
import type { ReceiptRecord, TruthRecord } from './truth.js';

const PROGRESS_EVERY_MS = 10_000;
/** The same error text from many trackers at once (a broker restart) is shown once per window. */
const ERROR_REPEAT_WINDOW_MS = 10_000;

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

type ReceiptPoster = ReturnType<typeof createReceiptPoster>;

interface Setup {
  options: CliOptions;
  devices: LiveDevice[];
  receipts: ReceiptPoster | null;
}

function throttledErrorPrinter(write: (line: string) => void): (e: Error) => void {
  const lastShown = new Map<string, number>();
  return (e) => {
    const key = e.message.replace(/^device \S+: /, '');
    const now = Date.now();
    if (now - (lastShown.get(key) ?? 0) < ERROR_REPEAT_WINDOW_MS) return;
    lastShown.set(key, now);
    write(`simulate: ${e.message}`);
  };
}

function compact(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(0)}k` : String(Math.round(n));
}

async function openOutputs(
  o: CliOptions,
  devices: LiveDevice[],
): Promise<{ readings: JsonlWriter | null; truth: JsonlWriter | null; mqtt: MqttSink | null; close(): Promise<void> }> {
  const readings = o.outFile ? await JsonlWriter.open(o.outFile) : null;
  const truth = o.truthFile ? await JsonlWriter.open(o.truthFile) : null;
  const mqtt = o.mqttUrl
    ? await openMqttSink(o.mqttUrl, devices, { sharedConnections: o.connections, clientIdPrefix: `armada-sim-${process.pid}` })
    : null;
  return {
    readings,
    truth,
    mqtt,
    async close() {
      await mqtt?.flush();
      await mqtt?.end();
      await readings?.close();
      await truth?.close();
    },
  };
}

async function postReceipts(receipts: ReceiptPoster | null, records: TruthRecord[]): Promise<void> {
  if (!receipts) return;
  for (const r of records) if (r.type === 'receipt') await receipts.post(r as ReceiptRecord);
}

async function runBatchMode({ options: o, devices, receipts }: Setup): Promise<number> {
  const fromMs = o.fromMs!;
  const toMs = o.toMs!;
  if (o.mqttUrl && toMs > Date.now() + 300_000)
    err('simulate: warning: --to is in the future; a server quarantines readings stamped more than MAX_FUTURE_S ahead of its clock');
  const outputs = await openOutputs(o, devices);
  const progress = createProgress(process.stderr, o.quiet);
  const wallStart = Date.now();
  let summary: Awaited<ReturnType<typeof runBatch>>;
  try {
    summary = await runBatch(
      { ...fleetModelOptions(o), vehicles: devices.map(({ secret: _s, ...v }) => v), seed: o.seed, startMs: fromMs },
      toMs,
      {
        async messages(messages: SimMessage[]) {
          for (const m of messages) {
            const pending = outputs.readings?.write(messageLine(m));
            if (pending) await pending;
            if (outputs.mqtt) await outputs.mqtt.publish(m);
          }
        },
        async truth(records) {
          if (outputs.truth) for (const r of records) await outputs.truth.write(`${JSON.stringify(r)}\n`);
          await postReceipts(receipts, records);
        },
        progress(p) {
          const seconds = (Date.now() - wallStart) / 1000;
          const wita = new Date(p.simulatedMs + WITA_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
          progress.update(p.fraction, `${wita} WITA  ${compact(p.readings)} readings  ${compact(p.readings / Math.max(seconds, 0.001))}/s`);
        },
      },
    );
  } finally {
    await outputs.close();
  }
  const seconds = (Date.now() - wallStart) / 1000;
  progress.done();
  out(
    `simulated ${devices.length} vehicles from ${witaDate(fromMs)} to ${witaDate(toMs - 1)} (WITA): ${summary.readings} readings in ${summary.messages} messages, ` +
      `${summary.truthRecords} truth records, in ${seconds.toFixed(1)} s (${compact(summary.readings / Math.max(seconds, 0.001))} readings/s)` +
      `${o.outFile ? `; readings in ${o.outFile}` : ''}${o.truthFile ? `; truth in ${o.truthFile}` : ''}${o.mqttUrl ? `; published to ${o.mqttUrl}` : ''}`,
  );
  if (receipts) {
    const r = receipts.summary();
    if (r.available) out(`receipts posted: ${r.posted}${r.failed ? `, failed: ${r.failed}` : ''}`);
  }
  return 0;
}

async function runLiveMode({ options: o, devices, receipts }: Setup): Promise<number> {
  if ((o.speedup ?? 1) > 1 && o.startMs === undefined && o.mqttUrl) {
    err(
      "simulate: warning: with --speedup above 1 the timestamps run ahead of the clock; readings more than the server's MAX_FUTURE_S ahead are quarantined. Use --start to begin in the past.",
    );
  }
  const readings = o.outFile ? await JsonlWriter.open(o.outFile) : null;
  const truth = o.truthFile ? await JsonlWriter.open(o.truthFile) : null;
  const pendingPosts = new Set<Promise<void>>();
  const report = throttledErrorPrinter(err);
  let simulation: Awaited<ReturnType<typeof startLiveSimulation>>;
  try {
    simulation = await startLiveSimulation({
      ...(o.mqttUrl ? { mqttUrl: o.mqttUrl } : {}),
      devices,
      intervalS: o.intervalS,
      seed: o.seed,
      speedup: o.speedup ?? 1,
      ...(o.startMs === undefined ? {} : { startMs: o.startMs }),
      schedule: o.schedule,
      format: o.format,
      model: (({ schedule: _s, format: _f, intervalS: _i, ...rest }) => rest)(fleetModelOptions(o)),
      onMessage: (m) => void readings?.write(messageLine(m))?.catch((e: Error) => report(e)),
      onTruth: (r) => {
        void truth?.write(`${JSON.stringify(r)}\n`)?.catch((e: Error) => report(e));
        if (receipts && r.type === 'receipt') {
          const p = receipts.post(r).finally(() => pendingPosts.delete(p));
          pendingPosts.add(p);
        }
      },
      onError: report,
    });
  } catch (e) {
    err(`simulate: ${(e as Error).message}`);
    await readings?.close();
    await truth?.close();
    return 1;
  }
  out(
    `simulating ${devices.length} vehicles (${o.schedule} schedule): a reading every ${o.intervalS} s of simulated time (${o.parkedIntervalS} s parked), ` +
      `speedup ${o.speedup ?? 1}, seed ${o.seed}${o.mqttUrl ? `, to ${o.mqttUrl}` : ''}${o.outFile ? `, to ${o.outFile}` : ''}. ${o.durationS ? `Runs ${o.durationS} s.` : 'Ctrl-C stops.'}`,
  );
  let lastCount = 0;
  const progress = o.quiet
    ? undefined
    : setInterval(() => {
        const count = o.mqttUrl ? simulation.published() : simulation.generated();
        out(
          `${new Date().toISOString()} ${o.mqttUrl ? 'published' : 'generated'} ${count} readings (+${count - lastCount} in the last ${PROGRESS_EVERY_MS / 1000} s)`,
        );
        lastCount = count;
      }, PROGRESS_EVERY_MS);
  await new Promise<void>((resolve) => {
    const timer = o.durationS ? setTimeout(resolve, o.durationS * 1000) : undefined;
    const onSignal = () => {
      clearTimeout(timer);
      process.once('SIGINT', () => process.exit(130));
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  clearInterval(progress);
  out('stopping…');
  await simulation.stop();
  await Promise.all(pendingPosts);
  await readings?.close();
  await truth?.close();
  out(`stopped; ${simulation.generated()} readings generated${o.mqttUrl ? `, ${simulation.published()} published` : ''}.`);
  return 0;
}

async function runLoadMode({ options: o, devices }: Setup): Promise<number> {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  if (o.format === 'owntracks' && o.loadRate! > devices.length) {
    err(
      'simulate: warning: OwnTracks times are whole seconds, so each device can send one new reading a second; use at least as many --vehicles as --load-rate',
    );
  }
  out(`load: ${devices.length} devices, target ${o.loadRate} messages/s for ${o.durationS} s, to ${o.mqttUrl}`);
  const result = await runLoad({
    mqttUrl: o.mqttUrl!,
    devices,
    ratePerS: o.loadRate!,
    durationS: o.durationS!,
    seed: o.seed,
    format: o.format,
    sharedConnections: o.connections,
    signal: controller.signal,
    ...(o.quiet
      ? {}
      : {
          onProgress: (p) =>
            out(`  ${p.elapsedS.toFixed(0)} s: sent ${p.sent}, acknowledged ${p.acked} (${compact(p.acked / p.elapsedS)}/s)`),
        }),
  });
  out(
    `load: ${result.devices} devices, target ${result.targetRatePerS} msg/s: sent ${result.sent} (${result.sentRatePerS.toFixed(0)} msg/s), ` +
      `acknowledged ${result.acked} in ${result.elapsedS.toFixed(1)} s: achieved ${result.achievedRatePerS.toFixed(0)} msg/s`,
  );
  return result.acked === result.sent ? 0 : 1;
}

async function runReplayMode({ options: o, devices }: Setup): Promise<number> {
  let text: string;
  try {
    text = await readFile(o.replayFile!, 'utf8');
  } catch (e) {
    err(`simulate: cannot read ${o.replayFile}: ${(e as Error).message}`);
    return 1;
  }
  const deviceId = devices[0]?.secret !== undefined ? devices[0].deviceId : o.deviceId;
  let replay: ReturnType<typeof gpxReplay>;
  try {
    replay = gpxReplay(parseGpx(text), { deviceId, format: o.format, ...(o.fromMs === undefined ? {} : { shiftToMs: o.fromMs }) });
  } catch (e) {
    err(`simulate: ${o.replayFile}: ${(e as Error).message}`);
    return 1;
  }
  const outputs = await openOutputs(o, [{ ...devices[0]!, deviceId }]);
  try {
    const wallStart = Date.now();
    const firstMs = replay.messages[0]?.atMs ?? 0;
    for (const m of replay.messages) {
      if (o.speedup !== undefined) {
        const dueMs = wallStart + (m.atMs - firstMs) / o.speedup;
        if (dueMs > Date.now()) await new Promise((resolve) => setTimeout(resolve, dueMs - Date.now()));
      }
      await outputs.readings?.write(messageLine(m));
      await outputs.mqtt?.publish(m);
    }
    await outputs.truth?.write(`${JSON.stringify(replay.summary)}\n`);
  } finally {
    await outputs.close();
  }
  const s = replay.summary;
  out(
    `replayed ${s.points} points as ${deviceId}: ${s.startAt} to ${s.endAt}, ${s.distanceKm.toFixed(3)} km, ${s.stops.length} stop(s) of a minute or more`,
  );
  return 0;
}

async function main(): Promise<number> {
  let options: CliOptions | null;
  try {
    options = parseCliOptions(process.argv.slice(2), process.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`simulate: ${e.message}\n\nRun "npm run simulate -- --help" for the options.`);
    return 2;
  }
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }

  let devices: LiveDevice[];
  let receipts: ReceiptPoster | null = null;
  if (options.apiUrl) {
    let toldOfWaiting = false;
    const api = createApi(options.apiUrl, options.apiKey!, {
      onRetry: ({ status, waitS }) => {
        if (toldOfWaiting) return;
        toldOfWaiting = true;
        out(`the API answered ${status}; waiting ${waitS} s as it asks (and again whenever it asks)`);
      },
    });
    try {
      const fleet = await registerFleet(api, options.vehicles, options.format, out);
      devices = fleet.devices;
      receipts = createReceiptPoster(api, fleet.vehicleIds, err);
    } catch (e) {
      err(`simulate: could not register the fleet: ${(e as Error).message}`);
      return 1;
    }
    out(`registered ${devices.length} vehicles in department ${SIM_DEPARTMENT.code}`);
  } else {
    devices = simulatedFleet(options.vehicles, options.format);
  }

  const setup: Setup = { options, devices, receipts };
  try {
    switch (options.mode) {
      case 'batch':
        return await runBatchMode(setup);
      case 'live':
        return await runLiveMode(setup);
      case 'load':
        return await runLoadMode(setup);
      case 'replay':
        return await runReplayMode(setup);
    }
  } catch (e) {
    err(`simulate: ${(e as Error).message}`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`simulate: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
