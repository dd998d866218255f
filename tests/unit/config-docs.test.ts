/** docs/configuration.md is the schema's own account of every variable, kept up to date. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema, loadConfig } from '../../src/config.js';
import { CONFIGURATION_DOC, configurationMarkdown, configurationVariables } from '../../src/config-docs.js';

describe('the configuration page', () => {
  it('is what `npm run docs:config` writes from the schema (run it after changing src/config.ts)', () => {
    expect(readFileSync(CONFIGURATION_DOC, 'utf8')).toBe(configurationMarkdown());
  });

  it('describes every variable, with the default the program really uses', () => {
    const variables = configurationVariables();
    expect(variables.map((v) => v.name)).toEqual(Object.keys(envSchema.shape));
    const byName = new Map(variables.map((v) => [v.name, v.default]));
    expect(byName.get('HTTP_PORT')).toBe('`3000`');
    expect(byName.get('REPORT_TZ')).toBe('`Asia/Makassar`');
    expect(byName.get('DATABASE_URL')).toMatch(/PGlite/);
    const config = loadConfig({});
    expect(config.httpPort).toBe(3000);
    expect(config.reportTz).toBe('Asia/Makassar');
  });
});
