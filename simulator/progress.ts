/**
 * A progress bar for batch runs: redrawn in place (at most five times a second) on a
 * terminal, one line per tenth of the run otherwise (CI logs, pipes).
 */
export interface Progress {
  update(fraction: number, detail: string): void;
  /** Clears the bar from a terminal; the caller prints the outcome. */
  done(): void;
}

const WIDTH = 30;

export function createProgress(stream: NodeJS.WriteStream, quiet: boolean): Progress {
  const tty = stream.isTTY === true;
  let lastDrawMs = 0;
  let lastTenth = -1;
  const bar = (fraction: number) => {
    const filled = Math.round(fraction * WIDTH);
    return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`;
  };
  return {
    update(fraction, detail) {
      if (quiet) return;
      if (tty) {
        const now = Date.now();
        if (now - lastDrawMs < 200 && fraction < 1) return;
        lastDrawMs = now;
        stream.write(`\r${bar(fraction)} ${detail}\x1b[K`);
        return;
      }
      const tenth = Math.floor(fraction * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`${bar(fraction)} ${detail}\n`);
      }
    },
    done() {
      if (!quiet && tty) stream.write('\r\x1b[K');
    },
  };
}
