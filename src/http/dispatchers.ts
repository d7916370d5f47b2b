import { createSecureContext, type SecureContext } from 'node:tls';
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { isInsecureByDefault } from '../reference/index.js';
import type { TlsConnectOptions, TlsOptionsResolver } from './tls-options.js';

export interface Timeouts {
  /** TCP + TLS connection set-up (default 15 s). */
  connectMs: number;
  /**
   * From the request sent to the response headers (default 60 s). Requests
   * that make the registry work before it answers (finishing a large upload)
   * raise it per request with `HttpRequest.headersTimeoutMs`.
   */
  headersMs: number;
  /** The longest gap between two body chunks (default 60 s). */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = { connectMs: 15_000, headersMs: 60_000, bodyMs: 60_000 };

export interface DispatcherPoolOptions {
  tls: TlsOptionsResolver;
  /** HTTPS_PROXY, HTTP_PROXY, NO_PROXY (lowercase names win, as curl reads them). */
  env: NodeJS.ProcessEnv;
  timeouts: Timeouts;
  /** Connections per origin (default: undici's, unbounded; callers bound their concurrency). */
  connections?: number;
}

/**
 * One dispatcher (a keep-alive connection pool) per origin and registry, so
 * each registry gets its own TLS settings. `get` resolves the same dispatcher
 * for every call with the same key, also while the first one is being built.
 */
export interface DispatcherPool {
  get(url: URL, registry: string | undefined): Promise<Dispatcher>;
  close(): Promise<void>;
}

export function createDispatcherPool(options: DispatcherPoolOptions): DispatcherPool {
  const pools = new Map<string, Promise<Dispatcher>>();
  const proxy = proxySettings(options.env);

  const build = async (url: URL, registry: string | undefined): Promise<Dispatcher> => {
    // Plain HTTP has no TLS to set up: no CA bundle to read and parse (~40 ms with --ca-file).
    const tls: TlsConnectOptions = url.protocol === 'https:' ? await options.tls.resolve(registry, url.host) : { rejectUnauthorized: true };
    let secureContext: SecureContext | undefined;
    if (tls.ca || tls.cert) {
      // One context per pool: parsing a few hundred CA certificates per connection would be wasted work.
      secureContext = createSecureContext({
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
      });
    }
    const connect = {
      rejectUnauthorized: tls.rejectUnauthorized,
      timeout: options.timeouts.connectMs,
      ...(secureContext ? { secureContext } : {}),
    };
    const common = {
      connect,
      headersTimeout: options.timeouts.headersMs,
      bodyTimeout: options.timeouts.bodyMs,
      ...(options.connections ? { connections: options.connections } : {}),
    };
    // Loopback never goes through a proxy, as Go's ProxyFromEnvironment (docker, skopeo) decides:
    // a proxy cannot reach this machine's registry, and CI sets HTTP_PROXY for the outside world.
    if (!proxy || isInsecureByDefault(url.host)) return new Agent(common);
    // Empty strings, not undefined: undici falls back to process.env for undefined,
    // and `env` is the one source of truth here (tests pass their own).
    return new EnvHttpProxyAgent({
      ...common,
      httpProxy: proxy.http,
      httpsProxy: proxy.https,
      noProxy: proxy.noProxy,
      requestTls: connect,
    });
  };

  return {
    get(url, registry) {
      const key = `${url.origin} ${registry ?? ''}`;
      let pool = pools.get(key);
      if (!pool) {
        pool = build(url, registry);
        pools.set(key, pool);
        pool.catch(() => pools.delete(key));
      }
      return pool;
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      const settled = await Promise.allSettled(all);
      await Promise.all(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.close()] : [])));
    },
  };
}

function proxySettings(env: NodeJS.ProcessEnv): { http: string; https: string; noProxy: string } | undefined {
  const http = env.http_proxy ?? env.HTTP_PROXY ?? '';
  const https = env.https_proxy ?? env.HTTPS_PROXY ?? '';
  if (!http && !https) return undefined;
  return { http, https, noProxy: env.no_proxy ?? env.NO_PROXY ?? '' };
}
