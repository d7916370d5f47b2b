import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { GantryError } from '../errors/index.js';
import { redactUrl } from '../internal/redact.js';
import { abortError, sleep, throwIfAborted } from '../internal/abort.js';
import { createRateGate, type RateGate } from '../internal/rate-gate.js';
import { failureLine, requestLine, responseLine, retryLine } from './debug-log.js';
import { createDispatcherPool, DEFAULT_TIMEOUTS, type Timeouts } from './dispatchers.js';
import { createInsecurePolicy, type InsecurePolicy } from './insecure-policy.js';
import { classifyNetworkError, isNetworkFailure } from './network-error.js';
import { nextHop, MAX_REDIRECTS } from './redirect.js';
import { createResponse } from './response.js';
import { backoffDelay, DEFAULT_RETRY, isReplayable, isRetryableStatus, markRetried, parseRetryAfter, type RetryOptions } from './retry-policy.js';
import { createTlsOptionsResolver } from './tls-options.js';
import type { HttpClient, HttpRequest, HttpResponse } from './types.js';
import { userAgent } from './user-agent.js';

export interface HttpClientOptions {
  /** The full User-Agent, see `userAgent()`. */
  userAgent: string;
  /** `--insecure` (every registry) or the registries marked insecure. */
  insecure?: boolean | readonly string[];
  /** `--ca-file`: a PEM bundle trusted in addition to the system's CAs. */
  caFile?: string;
  /** certs.d roots to search (default /etc/docker/certs.d, /etc/containers/certs.d). */
  certsDirs?: readonly string[];
  /** Where proxy variables and NODE_EXTRA_CA_CERTS are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** `--debug`: one line per request, response and failure; never a secret. */
  log?: (line: string) => void;
  retry?: Partial<RetryOptions>;
  timeouts?: Partial<Timeouts>;
  maxRedirects?: number;
  /** Connections per origin (default unbounded). */
  connections?: number;
  /**
   * Requests per second allowed to a registry (keyed like `request.registry`,
   * else the URL's host): every attempt, retries included, waits its turn.
   */
  requestRates?: Readonly<Record<string, number>>;
  now?: () => number;
}

/** Headers that carry credentials: never sent to another origin, never sent over plain HTTP to a secure registry. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'x-registry-auth'];

/**
 * The HTTP client: per-origin pools, HTTPS by default with the plain-HTTP
 * policy enforced, retries with full-jitter backoff for replayable requests
 * (connection resets, 408, 429, 5xx, honouring Retry-After; a timeout at
 * most `retry.timeoutRetries` times), each retry's wait in the debug log,
 * redirects followed by hand without leaking credentials, debug lines.
 * A network error thrown once those retries are spent carries
 * `details.retried` (see markRetried); a response returned after them has
 * `attempts` > 1, which readRegistryError turns into the same mark.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const policy: InsecurePolicy = createInsecurePolicy(options.insecure);
  const env = options.env ?? process.env;
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const now = options.now ?? Date.now;
  const log = options.log;
  const maxRedirects = options.maxRedirects ?? MAX_REDIRECTS;
  const pool = createDispatcherPool({
    tls: createTlsOptionsResolver({
      policy,
      env,
      ...(options.caFile ? { caFile: options.caFile } : {}),
      ...(options.certsDirs ? { certsDirs: options.certsDirs } : {}),
    }),
    env,
    timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
    ...(options.connections ? { connections: options.connections } : {}),
  });
  const agent = userAgent(options.userAgent);
  const gates = new Map<string, RateGate>();
  const gateFor = (key: string): RateGate | undefined => {
    const rate = options.requestRates?.[key];
    if (rate === undefined) return undefined;
    let gate = gates.get(key);
    if (!gate) {
      gate = createRateGate({ perSecond: rate });
      gates.set(key, gate);
    }
    return gate;
  };

  /** Refuse to put a credential on the wire in clear text unless the registry is insecure. */
  const checkPlainHttp = (url: URL, headers: Record<string, string>, registry: string | undefined): void => {
    if (url.protocol !== 'http:') return;
    if (!CREDENTIAL_HEADERS.some((name) => headers[name] !== undefined)) return;
    const allowed = registry === undefined ? policy.allowsPlainHttp(url.host) : policy.allowsPlainHttp(registry);
    if (!allowed) {
      throw new GantryError('INSECURE_CREDENTIALS', `refusing to send credentials over plain HTTP to ${redactUrl(url)}`, {
        hint: `Use HTTPS, or if ${registry ?? url.host} is a registry you trust on this network, mark it --insecure.`,
        details: { url: redactUrl(url) },
      });
    }
  };

  /** One exchange with retries; no redirects. */
  const exchange = async (
    method: string,
    url: URL,
    headers: Record<string, string>,
    request: HttpRequest,
  ): Promise<HttpResponse> => {
    const replayable = isReplayable(method, request.idempotent) && !(request.body instanceof Readable);
    const dispatcher = await pool.get(url, request.registry);
    let timeouts = 0;
    const waitToRetry = async (attempt: number, ms: number, why: string): Promise<void> => {
      log?.(retryLine({ method, url, ms, why, next: attempt + 1, attempts: retry.attempts }));
      await sleep(ms, request.signal);
    };
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(request.signal);
      await gateFor(request.registry ?? url.host)?.take(request.signal);
      checkPlainHttp(url, headers, request.registry);
      log?.(requestLine({ method, url, headers, attempt }));
      const started = now();
      let raw: Dispatcher.ResponseData;
      try {
        raw = await dispatcher.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: method as Dispatcher.HttpMethod,
          headers,
          body: request.body ?? null,
          // undici closes the connection after every HEAD (in case a broken
          // server sends a body anyway), so each manifest or blob HEAD paid
          // a new TCP and TLS handshake: a mirror run is mostly HEADs.
          // Registries answer HEAD as HTTP says (no body, a Content-Length),
          // as Go's client, which skopeo uses, also assumes.
          ...(method === 'HEAD' ? { reset: false } : {}),
          ...(request.headersTimeoutMs !== undefined ? { headersTimeout: request.headersTimeoutMs } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        });
      } catch (err) {
        if (request.signal?.aborted) throw abortError(request.signal);
        if (!isNetworkFailure(err)) throw err;
        const { error, transient } = classifyNetworkError(err, { method, url });
        log?.(failureLine({ ms: now() - started, code: error.code, message: error.message }));
        if (!transient || !replayable || request.retryNetworkErrors === false || (request.retryTimeouts === false && error.code === 'TIMEOUT')) throw error;
        if (attempt >= retry.attempts) throw markRetried(error, attempt);
        if (error.code === 'TIMEOUT' && ++timeouts > retry.timeoutRetries) throw markRetried(error, attempt);
        await waitToRetry(attempt, backoffDelay(attempt, retry), error.code);
        continue;
      }
      const response = createResponse({
        status: raw.statusCode,
        headers: raw.headers,
        method,
        url: url.href,
        body: raw.body,
        attempts: attempt,
        ...(request.signal ? { signal: request.signal } : {}),
      });
      log?.(responseLine({ method, url, status: response.status, ms: now() - started, headers: response.headers }));
      if (!isRetryableStatus(response.status) || !replayable || attempt >= retry.attempts) return response;
      const retryAfter = parseRetryAfter(response.headers['retry-after'], now());
      if (retryAfter !== undefined && retryAfter > retry.maxRetryAfterMs) return response;
      await response.discard();
      await waitToRetry(attempt, retryAfter ?? backoffDelay(attempt, retry), `HTTP ${response.status}`);
    }
  };

  return {
    policy,
    async request(request) {
      let url = new URL(request.url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new Error(`unsupported URL scheme: ${url.protocol}`);
      }
      let method = request.method.toUpperCase();
      let headers = normalizeHeaders(request.headers ?? {});
      headers['user-agent'] = agent;
      let current = request;
      for (let hop = 0; ; hop++) {
        const response = await exchange(method, url, headers, current);
        if (request.followRedirects === false) return response;
        const next = nextHop({ status: response.status, location: response.headers.location, url, method, headers });
        if (!next) return response;
        await response.discard();
        if (hop >= maxRedirects) {
          throw new GantryError('NETWORK', `${method} ${redactUrl(request.url)}: more than ${maxRedirects} redirects`, {
            details: { url: redactUrl(request.url), last: redactUrl(next.url) },
          });
        }
        if (next.keepBody && current.body instanceof Readable) {
          throw new GantryError('NETWORK', `${method} ${redactUrl(url)}: redirected after a streamed body was sent`, {
            hint: 'The registry redirected an upload; this is not supported for streamed bodies.',
          });
        }
        url = next.url;
        method = next.method;
        headers = next.headers;
        if (!next.keepBody) current = { ...current, body: undefined };
      }
    },
    close: () => pool.close(),
  };
}

function normalizeHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}
