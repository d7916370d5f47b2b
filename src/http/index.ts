export { DEFAULT_CERTS_DIRS, loadCertsDirs, type CertsDirContent } from './certs-dir.js';
export { createHttpClient, type HttpClientOptions } from './client.js';
export { DEFAULT_TIMEOUTS, type Timeouts } from './dispatchers.js';
export { ERROR_BODY_LIMIT, decodeEntries, readRegistryError, type ReadRegistryErrorOptions } from './error-body.js';
export { createInsecurePolicy, type InsecurePolicy } from './insecure-policy.js';
export { classifyNetworkError, isNetworkFailure } from './network-error.js';
export { MAX_REDIRECTS, nextHop, type Hop } from './redirect.js';
export { readAtMost } from './response.js';
export {
  DEFAULT_RETRY,
  backoffDelay,
  isReplayable,
  isRetryableStatus,
  parseRetryAfter,
  type RetryOptions,
} from './retry-policy.js';
export type { HttpClient, HttpRequest, HttpResponse } from './types.js';
export { gantryProduct, userAgent } from './user-agent.js';
