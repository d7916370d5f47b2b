import type { Readable } from 'node:stream';
import type { Scope } from '../auth/types.js';
import { GantryError } from '../errors/index.js';
import type { HttpResponse } from '../http/types.js';
import { redactUrl } from '../internal/redact.js';
import type { Reference } from '../reference/types.js';
import type { RegistryContext } from './context.js';
import { send } from './send.js';

export interface LocationRequest {
  ref: Reference;
  /** An upload URL the registry returned (absolute). */
  location: string;
  method: string;
  scopes: readonly Scope[];
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Readable;
  idempotent?: boolean;
  signal?: AbortSignal;
}

/**
 * Send a request to an upload session's URL. On the registry's own origin it
 * goes through `send` (authorization, one 401 retry); a Location on another
 * origin (a registry handing uploads to a separate endpoint) gets no
 * credentials, as a redirect would not.
 */
export async function sendToLocation(ctx: RegistryContext, request: LocationRequest): Promise<HttpResponse> {
  const url = new URL(request.location);
  for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
  const { baseUrl } = await ctx.ping(request.ref.registry, request.signal);
  const common = {
    method: request.method,
    url,
    ...(request.headers ? { headers: request.headers } : {}),
    ...(request.body ? { body: request.body } : {}),
    ...(request.idempotent !== undefined ? { idempotent: request.idempotent } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  };
  if (url.origin === new URL(baseUrl).origin) {
    return send(ctx, { ...common, registry: request.ref.registry, scopes: request.scopes });
  }
  return ctx.http.request({ ...common, registry: request.ref.registry });
}

/**
 * The absolute URL of a `Location` header, resolved against the URL that
 * answered (distribution-spec: it may be relative, and carries the
 * session's query state, so the latest one is always used as is).
 */
export function uploadLocation(response: HttpResponse, method: string): string {
  const value = response.headers.location?.trim();
  if (!value) {
    throw new GantryError('REGISTRY_ERROR', `${method} ${redactUrl(response.url)}: the registry answered ${response.status} without a Location for the upload`, {
      details: { status: response.status, url: redactUrl(response.url) },
    });
  }
  try {
    return new URL(value, response.url).href;
  } catch (err) {
    throw new GantryError('REGISTRY_ERROR', `${method} ${redactUrl(response.url)}: the upload Location is not a URL`, {
      cause: err,
      details: { url: redactUrl(response.url) },
    });
  }
}

/**
 * The offset an upload `Range` header confirms: `0-N` (distribution; also
 * `bytes=0-N`) means N+1 bytes. distribution writes `0-0` both for an empty
 * session and for one holding a single byte, so `expected` (what the caller
 * believes was sent) decides between the two. Undefined when the header is
 * absent or not of that form.
 */
export function confirmedOffset(range: string | undefined, expected?: number): number | undefined {
  const match = /^(?:bytes=)?0-(\d+)$/i.exec(range?.trim() ?? '');
  if (!match?.[1]) return undefined;
  const end = Number(match[1]);
  if (!Number.isSafeInteger(end)) return undefined;
  if (end === 0) return expected === 1 ? 1 : 0;
  return end + 1;
}
