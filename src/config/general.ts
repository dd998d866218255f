/** Settings every part shares: the report time zone and the log level. */
import { z } from 'zod';
import { timeZone } from './fields.js';

export const generalVariables = {
  REPORT_TZ: timeZone.default('Asia/Makassar').describe('Time zone of report days and months'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('The log level (pino): fatal … trace, or silent'),
};
