import { Readable } from 'node:stream';
import { parseWwwAuthenticate } from '../auth/challenge.js';
import type { Scope } from '../auth/types.js';
import { GantryError, type RegistryError } from '../errors/index.js';
import { readRegistryError } from '../http/error-body.js';
import type { HttpResponse } from '../http/types.js';
import { redactUrl } from '../internal/redact.js';
import type { RegistryContext } from './context.js';

export interface SendOptions {
  registry: string;
  /** What the request needs from a token service: `repository:org/app:pull`. */
  scopes: readonly Scope[];
  method: string;
  /** Absolute, or relative to the registry's base URL (`/v2/org/app/tags/list`). */
  url: string | URL;
  headers?: Record<string, string>;
  body?: string | Uint8Array | Readable;
  idempotent?: boolean;
  followRedirects?: boolean;
  signal?: AbortSignal;
}

/**
 * The authorized request path of the registry API: ping (once per registry),
 * authorize for the scopes, send, and on a 401 hand the challenge to the
 * authenticator and send once more. Resolves any response but a 401; a 401
 * that survives the retry throws:
 * - AUTH_FAILED when the registry refused Basic credentials;
 * - AUTH_REQUIRED when the request was anonymous (registries answer so for
 *   repositories that do not exist, too);
 * - AUTH_DENIED when the user's credentials were accepted by the token
 *   service but the fresh token does not grant access.
 * Each carries the decoded RegistryError as its cause.
 */
export async function send(ctx: RegistryContext, options: SendOptions): Promise<HttpResponse> {
  const { baseUrl } = await ctx.ping(options.registry, options.signal);
  await ctx.prime(options.registry, options.signal);
  const url = typeof options.url === 'string' && options.url.startsWith('/') ? new URL(`${baseUrl}${options.url}`) : new URL(options.url);
  for (let round = 1; ; round++) {
    const authorization = await ctx.auth.authorize(options.registry, options.scopes, options.signal);
    const response = await ctx.http.request({
      method: options.method,
      url,
      headers: { ...options.headers, ...(authorization ? { authorization } : {}) },
      registry: options.registry,
      ...(options.body !== undefined ? { body: options.body } : {}),
      ...(options.idempotent !== undefined ? { idempotent: options.idempotent } : {}),
      ...(options.followRedirects !== undefined ? { followRedirects: options.followRedirects } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (response.status !== 401) return response;
    // A streamed body is spent: the 401 stands.
    if (round === 1 && !(options.body instanceof Readable)) {
      const challenges = parseWwwAuthenticate(response.headerValues('www-authenticate'));
      let retry = false;
      try {
        retry = challenges.length > 0 && (await ctx.auth.challenge(options.registry, challenges, options.scopes, options.signal));
      } catch (err) {
        await response.discard();
        throw err;
      }
      if (retry) {
        await response.discard();
        continue;
      }
    }
    const cause = await readRegistryError(response, options.method);
    throw await unauthorized(ctx, options, authorization, cause);
  }
}

async function unauthorized(
  ctx: RegistryContext,
  options: SendOptions,
  authorization: string | undefined,
  cause: RegistryError,
): Promise<GantryError> {
  const registry = options.registry;
  const target = describeTarget(options);
  const details = { registry, status: 401, method: options.method, url: cause.url };
  if (authorization?.startsWith('Basic ')) {
    return new GantryError('AUTH_FAILED', `${registry}: the registry rejected the username or password`, {
      hint: `Log in again: \`gantry login ${registry}\`.`,
      cause,
      details,
    });
  }
  const credential = await ctx.auth.credential(registry);
  const identified = Boolean(credential?.registryToken || credential?.identityToken || (credential?.username && credential.password));
  if (!authorization || !identified) {
    return new GantryError('AUTH_REQUIRED', `${registry}: authentication required for ${target}`, {
      hint: `Log in with \`gantry login ${registry}\`, and check the name: registries answer the same for repositories that do not exist.`,
      cause,
      details,
    });
  }
  return new GantryError('AUTH_DENIED', `${registry}: your credentials do not grant access to ${target}`, {
    hint: 'Check the repository name and that your account may access it (pull, or push to write).',
    cause,
    details,
  });
}

function describeTarget(options: SendOptions): string {
  const repository = options.scopes.find((s) => s.type === 'repository');
  if (repository) return `repository ${repository.name}`;
  return `${options.method} ${redactUrl(String(options.url))}`;
}
