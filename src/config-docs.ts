/**
 * docs/configuration.md, written from the configuration schema itself (src/config.ts): each
 * variable's description and default come from its zod schema, so the page cannot drift
 * from what the program accepts. `npm run docs:config` rewrites the page;
 * tests/unit/config-docs.test.ts fails when it is out of date.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { envSchema } from './config.js';

export const CONFIGURATION_DOC = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

/** What an unset variable means when its schema has no default. */
const UNSET: Record<string, string> = {
  DATABASE_URL: 'unset: embedded PGlite in `DATA_DIR`',
  MQTT_URL: 'unset: the embedded broker on `MQTT_PORT`',
  METRICS_PORT: 'unset: a worker serves nothing',
  ADMIN_API_KEY: 'unset: none is created (the demo makes one and prints it)',
};

type Def = { type: string; defaultValue?: unknown; innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType };
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The default a variable takes when unset, as it would be written in the environment. */
export function defaultOf(schema: z.ZodType): string | undefined {
  const def = defOf(schema);
  if (def.type === 'default') {
    const value = typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
    return String(value);
  }
  for (const next of [def.innerType, def.in, def.out]) {
    const found = next ? defaultOf(next) : undefined;
    if (found !== undefined) return found;
  }
  return undefined;
}

export interface ConfigVariable {
  name: string;
  description: string;
  default: string;
}

export function configurationVariables(): ConfigVariable[] {
  return Object.entries(envSchema.shape).map(([name, schema]) => {
    const description = (schema as z.ZodType).description;
    if (!description) throw new Error(`${name} has no description in src/config/ (add .describe(…))`);
    const value = defaultOf(schema as z.ZodType);
    return { name, description, default: value === undefined ? (UNSET[name] ?? 'unset') : value === '' ? 'empty' : `\`${value}\`` };
  });
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function configurationMarkdown(): string {
  const rows = configurationVariables().map((v) => `| \`${v.name}\` | ${cell(v.description)} | ${cell(v.default)} |`);
  return [
    '# Configuration',
    '',
    '<!-- Written by `npm run docs:config` from the schema in src/config.ts: edit the descriptions there. -->',
    '',
    'Read once at start from the environment and validated; a bad value stops the program',
    'with a message that names every bad variable (exit code 2). Nothing else reads the',
    'environment. Only one process may open a PGlite data directory; a second one stops with',
    'a message: use `DATABASE_URL` for anything with more than one process.',
    '',
    '| variable | meaning | default |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CONFIGURATION_DOC, configurationMarkdown());
  console.log(`wrote ${CONFIGURATION_DOC}`);
}
