/**
 * Scores a stream the way RabbitMQ's Jepsen checker does: every message the broker
 * acknowledged to a publisher is either stored exactly once, or counted as lost;
 * anything stored twice is duplicated; anything stored that nobody published is
 * unexpected.
 */
export interface LossReport {
  published: number;
  stored: number;
  lost: number;
  duplicated: number;
  unexpected: number;
  /** A few of the lost ones, for the failure message. */
  lostSample: string[];
}

export function scoreStream(published: Iterable<string>, stored: Iterable<string>): LossReport {
  const sent = new Set(published);
  const seen = new Map<string, number>();
  let storedCount = 0;
  for (const key of stored) {
    storedCount++;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  let duplicated = 0;
  let unexpected = 0;
  for (const [key, n] of seen) {
    if (n > 1) duplicated += n - 1;
    if (!sent.has(key)) unexpected++;
  }
  const lostKeys = [...sent].filter((k) => !seen.has(k));
  return { published: sent.size, stored: storedCount, lost: lostKeys.length, duplicated, unexpected, lostSample: lostKeys.slice(0, 5) };
}
