import { parseWwwAuthenticate } from '../auth/challenge.js';
import { shareWork, type SharedWork } from '../internal/shared-work.js';
import { GantryError, isGantryError } from '../errors/index.js';
import { readRegistryError } from '../http/error-body.js';
import type { HttpClient, HttpResponse } from '../http/types.js';
import { redactUrl } from '../internal/redact.js';
import { isInsecureByDefault, registryEndpoint } from '../reference/index.js';
import type { PingResult } from './types.js';

export interface PingerOptions {
  http: HttpClient;
  /** See RegistryClientOptions.endpoint. */
  endpoint?: (registry: string, defaultBase: string) => string | undefined;
  log?: (line: string) => void;
}

const FALLBACK_CODES = new Set(['NETWORK', 'TLS', 'TIMEOUT']);

/**
 * Probe `GET /v2/` once per registry and decide its base URL: HTTPS, or,
 * for registries allowed plain HTTP (marked insecure, or loopback), plain
 * HTTP when the HTTPS attempt fails to connect or to handshake, as docker
 * does (a timed-out HTTPS attempt is then not retried first). A loopback
 * registry not marked insecure, named with a port, is asked over plain HTTP
 * first, HTTPS when that finds no registry. The probe is anonymous and looks up no credential (`gantry login`
 * must work while a stored credential's helper is broken). A successful probe is kept
 * for the client's life; a failed one is forgotten so a later call probes
 * again. Throws NETWORK/TLS/TIMEOUT (of the HTTPS attempt, noting the plain
 * one), RegistryError for a status other than 200 and 401.
 */
export function createPinger(options: PingerOptions): (registry: string, signal?: AbortSignal) => Promise<PingResult> {
  const pings = new Map<string, SharedWork<PingResult>>();

  const probe = (base: string, registry: string, signal: AbortSignal, retryTimeouts = true): Promise<HttpResponse> =>
    options.http.request({ method: 'GET', url: `${base}/v2/`, registry, signal, retryTimeouts });

  const reach = async (registry: string, signal: AbortSignal): Promise<{ base: string; response: HttpResponse }> => {
    const host = registryEndpoint(registry);
    const secure = `https://${host}`;
    const override = options.endpoint?.(registry, secure);
    if (override !== undefined) {
      const base = normalizeBase(override);
      return { base, response: await probe(base, registry, signal) };
    }
    const mayFallBack = options.http.policy.allowsPlainHttp(registry);
    const plain = `http://${host}`;
    // What the plain-HTTP probe met, when it went first and found no registry.
    let plainFailure: string | undefined;
    // Its status, when an HTTP server answered it; its error, when nothing did.
    let plainStatus: number | undefined;
    let plainError: GantryError | undefined;
    // With a port only: `localhost` alone means :80 for plain HTTP and :443 for HTTPS, two
    // services that may differ, and whichever answers first would get its credentials.
    if (mayFallBack && isInsecureByDefault(registry) && /:\d+$/.test(registry) && !options.http.policy.isMarked(registry)) {
      // A registry on this machine that nobody marked insecure most often speaks plain HTTP
      // (registry:2 in development and CI): ask that first, and spare the TLS attempt and
      // node's ~140 trust anchors (16 ms to parse) that HTTPS-first costs every command. The
      // probe carries no credentials, so a TLS port that gets it only answers 400 (or closes),
      // and HTTPS follows as before. A connection reset is not retried: from a TLS port it is
      // an answer, not a fault. Not redirected: a plain port sending gantry to https:// is an
      // HTTPS registry. Marked insecure, it goes HTTPS first as docker does: the mark says TLS
      // without verification (loopback needs no mark for plain HTTP).
      try {
        const response = await options.http.request({
          method: 'GET',
          url: `${plain}/v2/`,
          registry,
          signal,
          retryNetworkErrors: false,
          retryTimeouts: false,
          followRedirects: false,
        });
        // A busy or failing plain-HTTP server (5xx, 429 still, after the usual retries) is the registry: report its answer.
        if (isRegistryAnswer(response) || response.status >= 500 || response.status === 429) return { base: plain, response };
        await response.discard();
        plainFailure = `HTTP ${response.status}`;
        plainStatus = response.status;
      } catch (err) {
        if (!isGantryError(err) || !FALLBACK_CODES.has(err.code)) throw err;
        plainFailure = err.message;
        plainError = err;
      }
    }
    try {
      // A timeout is not retried when plain HTTP may answer: trying it is quicker than waiting out HTTPS again.
      return { base: secure, response: await probe(secure, registry, signal, !mayFallBack || plainFailure !== undefined) };
    } catch (err) {
      if (!mayFallBack || !isGantryError(err) || !FALLBACK_CODES.has(err.code)) throw err;
      if (plainStatus !== undefined && !pointsToHttps(plainStatus)) throw notARegistry(plain, plainStatus, err);
      // Nothing answers on either scheme (nothing listens there): the attempt made first leads.
      if (plainError?.code === 'NETWORK' && err.code === 'NETWORK') throw withNote(plainError, `HTTPS failed too: ${err.message}`);
      if (plainFailure !== undefined) throw withPlainNote(err, plainFailure);
      options.log?.(`ping: ${secure} failed (${err.code}); ${registry} may use plain HTTP, trying ${plain}`);
      return { base: plain, response: await probePlain(plain, err) };
    }

    async function probePlain(base: string, httpsError: GantryError): Promise<HttpResponse> {
      let response: HttpResponse;
      try {
        response = await probe(base, registry, signal);
      } catch (err) {
        if (!isGantryError(err) || !FALLBACK_CODES.has(err.code)) throw err;
        throw withPlainNote(httpsError, err.message);
      }
      if (!isRegistryAnswer(response)) {
        await response.discard();
        // An HTTP server that is no registry (a 404 for /v2/) is named as such, not as a TLS failure.
        if (!pointsToHttps(response.status)) throw notARegistry(base, response.status, httpsError);
        // A TLS port answering 400 to plain HTTP, or a redirect: HTTPS was the right scheme, and its failure is the news.
        throw withPlainNote(httpsError, `HTTP ${response.status}`);
      }
      return response;
    }
  };

  const run = async (registry: string, signal: AbortSignal): Promise<PingResult> => {
    const { base, response } = await reach(registry, signal);
    if (response.status !== 200 && response.status !== 401) throw await readRegistryError(response, 'GET');
    const status = response.status;
    const challenges = status === 401 ? parseWwwAuthenticate(response.headerValues('www-authenticate')) : [];
    await response.discard();
    const schemes = challenges.map((c) => c.scheme).join(', ') || (status === 401 ? 'required, no challenge' : 'none');
    options.log?.(`ping: ${registry} at ${redactUrl(base)}, auth: ${schemes}`);
    return { registry, baseUrl: base, status, challenges };
  };

  return (registry, signal) => {
    let work = pings.get(registry);
    if (!work || work.abandoned) {
      const created: SharedWork<PingResult> = shareWork(async (workSignal) => {
        try {
          return await run(registry, workSignal);
        } catch (err) {
          if (pings.get(registry) === created) pings.delete(registry);
          throw err;
        }
      });
      work = created;
      pings.set(registry, work);
    }
    return work.join(signal);
  };
}

/**
 * A plain-HTTP answer that leaves HTTPS the right scheme: a TLS port answers
 * plain HTTP with 400 (Go's servers, nginx), and a redirect sends the client
 * to https://. Anything else came from an HTTP server that is no registry.
 */
function pointsToHttps(status: number): boolean {
  return status === 400 || (status >= 300 && status < 400);
}

/** An HTTP server answered, but not as a registry: say so rather than report the HTTPS attempt's failure. */
function notARegistry(base: string, status: number, httpsError: GantryError): GantryError {
  const url = redactUrl(`${base}/v2/`);
  return new GantryError('REGISTRY_ERROR', `${url} answered HTTP ${status}: no registry API there (HTTPS: ${httpsError.code})`, {
    hint: 'Check the host and port: a registry answers GET /v2/ with 200 or 401. One served under a path needs its endpoint in the config (registry-endpoints).',
    cause: httpsError,
    details: { url, status },
  });
}

/** A registry's answer to `GET /v2/`: 200, or 401 with its challenge. */
function isRegistryAnswer(response: HttpResponse): boolean {
  return response.status === 200 || response.status === 401;
}

/** `http://127.0.0.1:5000/` → `http://127.0.0.1:5000`; a path prefix is kept (a mirror under /registry). */
function normalizeBase(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch (err) {
    throw new GantryError('USAGE', `registry endpoint ${JSON.stringify(redactUrl(base))} is not a URL`, { cause: err });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new GantryError('USAGE', `registry endpoint ${redactUrl(url)} must be an http(s) URL`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function withPlainNote(httpsError: GantryError, plain: string): GantryError {
  return withNote(httpsError, `plain HTTP failed too: ${plain}`);
}

function withNote(error: GantryError, note: string): GantryError {
  return new GantryError(error.code, `${error.message} (${note})`, {
    ...(error.hint ? { hint: error.hint } : {}),
    cause: error,
    ...(error.details ? { details: error.details } : {}),
  });
}
