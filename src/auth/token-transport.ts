/**
 * What the token flow needs from HTTP. The auth layer sits below the HTTP
 * layer (docs: the import rule), so it names this much and no more; the
 * HTTP client (src/http) satisfies it and is injected.
 */
export interface TokenTransport {
  request(request: {
    method: string;
    url: URL;
    headers: Record<string, string>;
    body?: string;
    idempotent?: boolean;
    /** The registry the request is for: its TLS settings and plain-HTTP policy apply. */
    registry: string;
    signal?: AbortSignal;
  }): Promise<TokenResponse>;
  readonly policy: { allowsPlainHttp(registry: string): boolean };
}

export interface TokenResponse {
  status: number;
  /** Lowercased names. */
  headers: Record<string, string>;
  url: string;
  /**
   * How many times the transport sent the request to get this answer (src/http
   * retries 408/429/5xx of a replayable request). Above 1 for a status it
   * retries means it stopped retrying: its budget, or a Retry-After past its
   * limit. Undefined for a transport that does not say: taken as 1.
   */
  attempts?: number;
  read(maxBytes: number): Promise<{ bytes: Uint8Array; truncated: boolean }>;
  discard(): Promise<void>;
}
