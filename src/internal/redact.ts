/**
 * Redaction of secrets from anything that may be printed or logged. Every URL
 * that ends up in an error message or a debug line goes through `redactUrl`.
 */
// Signed object-storage and CDN URLs (S3, GCS, Azure, CloudFront, Docker Hub's `verify=`) carry their secret in the
// query; so does distribution's upload `_state`, which is a capability for the upload session.
const SECRET_QUERY_KEYS =
  /^(token|access_token|refresh_token|password|secret|signature|x-amz-signature|x-amz-security-token|x-amz-credential|sig|sv|se|sp|key|code|x-goog-signature|x-goog-credential|verify|policy|key-pair-id|expires|googleaccessid|x-ms-signature|_state)$/i;

export const REDACTED = '[REDACTED]';

/** Strip userinfo and secret-looking query parameters from a URL. Non-URLs pass through unchanged. */
export function redactUrl(input: string | URL): string {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return String(input);
  }
  if (url.username || url.password) {
    url.username = url.username ? REDACTED : '';
    url.password = '';
  }
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_QUERY_KEYS.test(key)) url.searchParams.set(key, REDACTED);
  }
  return url.toString().replace(/%5BREDACTED%5D/g, REDACTED);
}

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-registry-auth']);

/** Redact an HTTP header value if the header carries a secret: keep the scheme, hide the rest. */
export function redactHeader(name: string, value: string): string {
  if (!SECRET_HEADERS.has(name.toLowerCase())) return value;
  const space = value.indexOf(' ');
  return space > 0 ? `${value.slice(0, space)} ${REDACTED}` : REDACTED;
}

/** Replace every occurrence of known secret strings in free text (last line of defence for logs). */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join(REDACTED);
  }
  return out;
}
