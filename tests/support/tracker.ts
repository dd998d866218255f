/** How a tracker publishes, for the fault tests. */
import type { MqttClient } from 'mqtt';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Like a tracker: a reading stays on the device until the broker acknowledges it. MQTT.js
 * resends unacknowledged messages after a reconnect, but gives up on one (rejects it)
 * when the connection drops again while it is being resent; the device then tries again.
 */
export async function publishUntilAcknowledged(client: MqttClient, topic: string, payload: string): Promise<void> {
  for (;;) {
    try {
      await client.publishAsync(topic, payload, { qos: 1 });
      return;
    } catch {
      await sleep(200);
    }
  }
}
