/**
 * The `rel="next"` target of `Link` header values (RFC 8288), resolved
 * against the URL of the page that sent it (registries send relative links,
 * distribution spec "Listing Tags": `</v2/app/tags/list?n=2&last=b>; rel="next"`).
 * Undefined when there is none or it is not a URL.
 */
export function nextLink(values: readonly string[], base: URL): URL | undefined {
  for (const value of values) {
    const pattern = /<([^>]*)>((?:\s*;\s*[^;,<]*)*)/g;
    for (let match = pattern.exec(value); match !== null; match = pattern.exec(value)) {
      const params = (match[2] ?? '').split(';').map((p) => p.trim());
      const isNext = params.some((param) => {
        const eq = param.indexOf('=');
        if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== 'rel') return false;
        const rel = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
        return rel.toLowerCase().split(/\s+/).includes('next');
      });
      if (!isNext) continue;
      try {
        return new URL(match[1] ?? '', base);
      } catch (err) {
        if (err instanceof TypeError) return undefined;
        throw err;
      }
    }
  }
  return undefined;
}
