import { GantryError } from '../errors/index.js';
import { redactUrl } from '../internal/redact.js';

/** As browsers and Go's net/http: enough for any CDN hand-off, few enough to stop a loop quickly. */
export const MAX_REDIRECTS = 10;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Headers that identify the user; they stay with the origin they were meant for. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization', 'x-registry-auth'];

/** Headers that describe a request body, dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-range', 'digest'];

export interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  /** Whether the body must be sent again (307/308, RFC 9110 §15.4). */
  keepBody: boolean;
}

/**
 * Where a redirect leads, or undefined when the response is not one. A hop
 * to another origin (scheme, host or port differ) loses every credential
 * header: blob downloads are redirected to object storage and CDNs, which must
 * never see the registry's token. 303 (and 301/302 after a POST, as every
 * client does) become GET without a body. Throws NETWORK for a Location that
 * is not an http(s) URL.
 */
export function nextHop(init: {
  status: number;
  location: string | undefined;
  url: URL;
  method: string;
  headers: Record<string, string>;
}): Hop | undefined {
  if (!REDIRECT_STATUSES.has(init.status) || !init.location) return undefined;
  let target: URL;
  try {
    target = new URL(init.location, init.url);
  } catch (err) {
    throw new GantryError('NETWORK', `${init.method} ${redactUrl(init.url)}: redirect to an invalid location`, { cause: err });
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    throw new GantryError('NETWORK', `${init.method} ${redactUrl(init.url)}: redirect to unsupported scheme ${target.protocol}`);
  }
  target.hash = '';
  const headers = { ...init.headers };
  if (target.origin !== init.url.origin) {
    for (const name of CREDENTIAL_HEADERS) delete headers[name];
  }
  const toGet = (init.status === 303 && init.method !== 'HEAD') || ((init.status === 301 || init.status === 302) && init.method === 'POST');
  if (toGet) {
    for (const name of BODY_HEADERS) delete headers[name];
    return { url: target, method: 'GET', headers, keepBody: false };
  }
  return { url: target, method: init.method, headers, keepBody: true };
}
