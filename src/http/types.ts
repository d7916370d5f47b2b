import type { Readable } from 'node:stream';
import type { InsecurePolicy } from './insecure-policy.js';

/** One HTTP exchange as gantry asks for it. */
export interface HttpRequest {
  method: string;
  url: string | URL;
  /** Header names are matched case-insensitively; `user-agent` is always set by the client. */
  headers?: Record<string, string>;
  /**
   * A stream body can be sent once only: such a request is neither retried
   * nor sent again on a 307/308 redirect.
   */
  body?: string | Uint8Array | Readable;
  /** The request may be sent again (GET and HEAD always may). */
  idempotent?: boolean;
  /**
   * The registry (`docker.io`, `localhost:5000`) the request is made for. It
   * selects the TLS settings (certs.d, `--insecure`) and the plain-HTTP
   * credential policy, also for the token realm and redirect targets, as
   * docker uses one transport per registry.
   */
  registry?: string;
  /** Follow redirects (the default), or hand a 3xx back to the caller. */
  followRedirects?: boolean;
  /**
   * Retry a connect or header timeout (default true, at most
   * `RetryOptions.timeoutRetries` times). False when the caller has a better
   * next try than the same request: the HTTPS probe of a registry that may
   * fall back to plain HTTP.
   */
  retryTimeouts?: boolean;
  /**
   * Retry a connection that failed or broke (default true; statuses are
   * retried either way). False when that failure is itself the answer: the
   * plain-HTTP probe of a loopback port that may speak TLS, whose reset would
   * otherwise be retried with backoff.
   */
  retryNetworkErrors?: boolean;
  /** Wait this long for the response headers instead of the client's default (a slow upload commit). */
  headersTimeoutMs?: number;
  signal?: AbortSignal;
}

/** A response whose body has not been read yet; read it, or `discard()` it. */
export interface HttpResponse {
  status: number;
  /** Lowercased names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The URL that answered (after redirects). May hold secrets: redact before showing. */
  url: string;
  /** How many times the request was sent to get this answer: more than 1 after retries (a 503 that never went away). */
  attempts?: number;
  body: Readable;
  /** Every value of a header, unjoined (for `WWW-Authenticate` and `Link`). */
  headerValues(name: string): string[];
  /** Read at most `maxBytes` of the body; stops (and drops the connection) past it. */
  read(maxBytes: number): Promise<{ bytes: Uint8Array; truncated: boolean }>;
  /** Throw the body away so the connection can be reused. */
  discard(): Promise<void>;
}

/**
 * The HTTP transport: pools, TLS and plain-HTTP policy, proxies, retries,
 * redirects and debug logging. Never throws for an HTTP status; throws
 * GantryError NETWORK, TIMEOUT, TLS, INSECURE_CREDENTIALS, INTERRUPTED.
 */
export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>;
  /** Which registries may be reached over plain HTTP or without TLS verification. */
  readonly policy: InsecurePolicy;
  /** Close every pool; in-flight requests finish first. */
  close(): Promise<void>;
}
