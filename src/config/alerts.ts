/** The alert engine's thresholds. */
import { z } from 'zod';

export const alertsVariables = {
  SPEED_LIMIT_KMH: z.coerce
    .number()
    .min(10)
    .max(300)
    .default(80)
    .describe("Fleet-wide speed limit for alerts; a vehicle's `speedLimitKmh` wins"),
  LOW_BATTERY_V: z.coerce.number().min(0).max(50).default(11.8).describe('Below this, with the engine off, a low-battery alert is raised'),
  DEVICE_SILENT_AFTER_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(3600)
    .describe(
      "A vehicle none of whose active devices has delivered a usable reading for this long (by the server's clock, not the tracker's; messages that only go to quarantine do not count), or none since its device was registered this long ago, raises a device-silent alert, once per silence",
    ),
};
