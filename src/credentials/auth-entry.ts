import { GantryError } from '../errors/index.js';
import type { Credential } from './types.js';

/** The fields of a config.json `auths` entry that hold a credential; any other field (`email`, …) is left alone. */
const CREDENTIAL_FIELDS = ['auth', 'username', 'password', 'identitytoken', 'registrytoken'] as const;

/** Standard base64, padding optional (docker writes it padded; some tools do not). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export interface AuthEntryContext {
  /** The config file, for messages. */
  file: string;
  /** The entry's key in `auths`, for messages. */
  key: string;
}

/**
 * The credential in one `auths` entry, or undefined when the entry holds none
 * (docker writes `{}` for hosts whose secret lives in a credential helper).
 * `auth` is base64 of `user:password`, split at the first colon, so the
 * password may contain colons; docker trims NUL padding from the password.
 * When `auth` is absent, plain `username`/`password` fields are read.
 * Throws GantryError CONFIG_INVALID naming the file and key (never the value).
 */
export function decodeAuthEntry(entry: unknown, context: AuthEntryContext): Credential | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw invalid(context, 'is not a JSON object');
  }
  const fields = entry as Record<string, unknown>;
  for (const name of CREDENTIAL_FIELDS) {
    const value = fields[name];
    if (value !== undefined && value !== null && typeof value !== 'string') throw invalid(context, `has a non-string "${name}"`);
  }
  const text = (name: (typeof CREDENTIAL_FIELDS)[number]): string | undefined => {
    const value = fields[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };

  const credential: Credential = {};
  const auth = text('auth');
  if (auth !== undefined) {
    const { username, password } = decodeBasicAuth(auth, context);
    credential.username = username;
    credential.password = password;
  } else {
    const username = text('username');
    const password = text('password');
    if (username !== undefined) credential.username = username;
    if (password !== undefined) credential.password = password;
  }
  const identityToken = text('identitytoken');
  const registryToken = text('registrytoken');
  if (identityToken !== undefined) credential.identityToken = identityToken;
  if (registryToken !== undefined) credential.registryToken = registryToken;
  return Object.keys(credential).length > 0 ? credential : undefined;
}

/**
 * A new `auths` entry for `credential`, keeping the non-credential fields of
 * `previous`. Writes what docker writes: base64 `auth` (only when there is a
 * username or password), `identitytoken` and `registrytoken`; never plaintext
 * `username`/`password` fields. An empty credential yields an entry with no
 * secret (docker's marker for a host whose secret lives in a helper).
 * Throws GantryError USAGE for a password without a username.
 */
export function encodeAuthEntry(credential: Credential, previous?: unknown): Record<string, unknown> {
  const entry: Record<string, unknown> = {};
  const { username = '', password = '' } = credential;
  // docker's decoder rejects `:password`; writing it would make the file unreadable for this host.
  if (username === '' && password !== '') throw new GantryError('USAGE', 'a password was given without a username', { hint: 'Give a username with the password.' });
  if (username !== '' || password !== '') entry.auth = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
  if (typeof previous === 'object' && previous !== null && !Array.isArray(previous)) {
    for (const [name, value] of Object.entries(previous)) {
      if (!(CREDENTIAL_FIELDS as readonly string[]).includes(name)) entry[name] = value;
    }
  }
  if (credential.identityToken) entry.identitytoken = credential.identityToken;
  if (credential.registryToken) entry.registrytoken = credential.registryToken;
  return entry;
}

function decodeBasicAuth(auth: string, context: AuthEntryContext): { username: string; password: string } {
  const compact = auth.trim();
  if (!BASE64.test(compact) || compact.length % 4 === 1) throw invalid(context, 'has an "auth" field that is not base64');
  const decoded = Buffer.from(compact, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw invalid(context, 'has an "auth" field that is not base64 of "username:password"');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/^\0+|\0+$/g, '') };
}

function invalid(context: AuthEntryContext, what: string): GantryError {
  return new GantryError('CONFIG_INVALID', `${context.file}: auths[${JSON.stringify(context.key)}] ${what}`, {
    hint: `Fix or remove that entry in ${context.file}, then log in again.`,
    details: { file: context.file, key: context.key },
  });
}
