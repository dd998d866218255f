/**
 * `tsx src/cli.ts mosquitto-auth --passwd FILE --acl FILE [--service-passwd FILE]
 * [--service-user armada] [--service-password-env MQTT_ARMADA_PASSWORD]`: writes
 * Mosquitto's devices' password file and ACL from the devices table, and the service
 * listener's password file when asked (src/mosquitto/auth-files.ts), then says how to
 * make Mosquitto reload them.
 */
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createRepositories } from '../repositories/index.js';
import { openConfiguredDatabase } from '../runtime.js';
import { emqxUsersCsv, writeFileInPlace, writeMosquittoAuthFiles } from './auth-files.js';

export const MOSQUITTO_AUTH_USAGE = `Usage: tsx src/cli.ts mosquitto-auth --passwd FILE --acl FILE [--service-passwd FILE]
         [--service-user armada] [--service-password-env MQTT_ARMADA_PASSWORD]

Writes Mosquitto's devices' password file (one line per active device: its id and its
stored $7$ secret hash) and ACL file from the devices table of DATABASE_URL (or the
PGlite database in DATA_DIR). With --service-passwd, also the service listener's
password file: the service user alone, its password from the variable named by
--service-password-env. Files are rewritten in place, so a bind mount keeps seeing
them. Then reload Mosquitto: docker compose kill -s HUP mosquitto`;

/** A mistake in the command line or the environment: printed as is, exit code 2. */
export class MosquittoAuthUsageError extends Error {
  constructor(message: string, usage = MOSQUITTO_AUTH_USAGE) {
    super(`${message}\n\n${usage}`);
    this.name = 'MosquittoAuthUsageError';
  }
}

export function parseMosquittoAuthArgs(args: readonly string[], env: NodeJS.ProcessEnv) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        passwd: { type: 'string' },
        acl: { type: 'string' },
        'service-passwd': { type: 'string' },
        'service-user': { type: 'string', default: 'armada' },
        'service-password-env': { type: 'string', default: 'MQTT_ARMADA_PASSWORD' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new MosquittoAuthUsageError((err as Error).message);
  }
  const passwdPath = values.passwd as string | undefined;
  const aclPath = values.acl as string | undefined;
  if (!passwdPath || !aclPath) throw new MosquittoAuthUsageError('Both --passwd and --acl are required.');
  const serviceUser = values['service-user'] as string;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(serviceUser))
    throw new MosquittoAuthUsageError(`--service-user "${serviceUser}" is not a usable user name.`);
  const passwordVariable = values['service-password-env'] as string;
  const servicePasswdPath = values['service-passwd'] as string | undefined;
  if (!servicePasswdPath) return { passwdPath, aclPath, serviceUser, passwordVariable, service: undefined };
  const servicePassword = env[passwordVariable];
  if (!servicePassword) {
    throw new MosquittoAuthUsageError(
      `${passwordVariable} is not set: it holds the password of the service user "${serviceUser}" (the one in MQTT_URL).`,
    );
  }
  return { passwdPath, aclPath, serviceUser, passwordVariable, service: { passwdPath: servicePasswdPath, password: servicePassword } };
}

export async function runMosquittoAuth(
  args: readonly string[],
  config: Config,
  logger: Logger,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const options = parseMosquittoAuthArgs(args, process.env);
  const database = await openConfiguredDatabase(config, logger);
  try {
    const repos = createRepositories(database);
    const result = await writeMosquittoAuthFiles({ devices: repos.devices, ...options });
    const lines = [
      `Wrote ${options.passwdPath}: ${result.devices} active device(s)` +
        `${result.inactive ? `; ${result.inactive} deactivated device(s) left out` : ''}.`,
      ...(options.service
        ? [`Wrote ${options.service.passwdPath}: the service user "${options.serviceUser}" (password from ${options.passwordVariable}).`]
        : []),
      `Wrote ${options.aclPath}.`,
      ...result.skipped.map((s) => `Left out device "${s.id}": ${s.reason}.`),
      'Now make Mosquitto reload both files: docker compose kill -s HUP mosquitto  (or: kill -HUP <mosquitto pid>)',
      '',
    ];
    out.write(lines.join('\n'));
  } finally {
    await database.close();
  }
}

export const EMQX_USERS_USAGE = `Usage: tsx src/cli.ts emqx-users --out FILE [--service-user armada]

Writes EMQX's device users (deploy/emqx/devices.csv: user_id,password_hash,salt,is_superuser)
from the devices table: the same users as Mosquitto's password file, each stored secret
hash as EMQX's built-in database takes it (PBKDF2-SHA512, 101 iterations, hex). A device
whose secret was set before salts were printable is left out and named: rotate its
secret. EMQX reads the file when it starts (bootstrap_file); on a running cluster, import
it through EMQX's import_users API of the devices' authenticator with type=hash.`;

export async function runEmqxUsers(
  args: readonly string[],
  config: Config,
  logger: Logger,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { out: { type: 'string' }, 'service-user': { type: 'string', default: 'armada' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new MosquittoAuthUsageError((err as Error).message, EMQX_USERS_USAGE);
  }
  const path = values.out as string | undefined;
  if (!path) throw new MosquittoAuthUsageError('--out is required.', EMQX_USERS_USAGE);
  const database = await openConfiguredDatabase(config, logger);
  try {
    const repos = createRepositories(database);
    const { text, users, skipped } = emqxUsersCsv(await repos.devices.listActiveCredentials(), values['service-user'] as string);
    // The hashes are as good as Mosquitto's password file: readable by its owner alone.
    writeFileInPlace(path, text, 0o600);
    out.write([`Wrote ${path}: ${users} user(s).`, ...skipped.map((s) => `Left out device "${s.id}": ${s.reason}.`), ''].join('\n'));
  } finally {
    await database.close();
  }
}
