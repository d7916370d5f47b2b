import { GantryError } from '../errors/index.js';
import { redactUrl } from '../internal/redact.js';
import { isInsecureByDefault } from '../reference/index.js';

/** Node's and OpenSSL's codes for a certificate that does not check out. */
const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** Failures where the same request may well work a moment later. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'EAI_AGAIN', ...TIMEOUT_CODES]);

const NETWORK_CODES = new Set([
  ...TRANSIENT_CODES,
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_PROXY',
]);

const TLS_HINT =
  'The certificate was not accepted: trust its CA with --ca-file or /etc/docker/certs.d/<host:port>/ca.crt, or, for a registry you control, mark it --insecure.';

/** The codes along an error's cause chain, outermost first. */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 8; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') codes.push(code);
    current = current.cause;
  }
  return codes;
}

function isTlsCode(code: string): boolean {
  return CERT_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_');
}

/**
 * Whether `err` is a failure of the connection or the TLS handshake (as
 * opposed to a programmer error such as an invalid header). `classifyNetworkError`
 * turns these into GantryErrors.
 */
export function isNetworkFailure(err: unknown): boolean {
  return codesOf(err).some((code) => isTlsCode(code) || NETWORK_CODES.has(code));
}

/**
 * Turn a transport failure into a GantryError: TLS (with a hint naming
 * --ca-file, certs.d and --insecure), TIMEOUT or NETWORK. The message names
 * the method and the redacted URL. `transient` tells whether a retry may help.
 */
export function classifyNetworkError(err: unknown, request: { method: string; url: string | URL }): {
  error: GantryError;
  transient: boolean;
} {
  const codes = codesOf(err);
  const where = `${request.method} ${redactUrl(request.url)}`;
  const reason = err instanceof Error ? err.message.replace(/[\r\n]+/g, ' ') : String(err);
  const details = { url: redactUrl(request.url), method: request.method, codes };
  if (codes.includes('ERR_SSL_WRONG_VERSION_NUMBER')) {
    // OpenSSL's "wrong version number": the answer to the TLS hello was not TLS, most often a plain-HTTP server.
    return {
      error: new GantryError('TLS', `${where}: the server did not answer in TLS; it probably serves plain HTTP (${reason})`, {
        hint: 'If this registry serves plain HTTP and you trust the network to it, use --insecure or list it under insecure-registries in the settings (loopback registries may use plain HTTP without either).',
        cause: err,
        details,
      }),
      transient: false,
    };
  }
  if (codes.some(isTlsCode)) {
    return {
      error: new GantryError('TLS', `${where}: TLS failure: ${reason}`, { hint: TLS_HINT, cause: err, details }),
      transient: false,
    };
  }
  const transient = codes.some((code) => TRANSIENT_CODES.has(code));
  if (codes.some((code) => TIMEOUT_CODES.has(code))) {
    return {
      error: new GantryError('TIMEOUT', `${where}: timed out (${reason})`, {
        hint: 'The registry did not answer in time: check the network or proxy settings, then try again.',
        cause: err,
        details,
      }),
      transient,
    };
  }
  return {
    error: new GantryError('NETWORK', `${where}: ${reason}`, {
      // Loopback never goes through a proxy (dispatchers), so naming one would mislead.
      hint: isInsecureByDefault(new URL(request.url).host) ? 'Check the registry address and port, and that the registry is running.' : 'Check the registry address, the network, and HTTPS_PROXY/NO_PROXY.',
      cause: err,
      details,
    }),
    transient,
  };
}
