import type { Scope } from '../auth/types.js';
import { GantryError } from '../errors/index.js';
import { readRegistryError } from '../http/error-body.js';
import { parseJson } from '../internal/parse-json.js';
import { redactUrl } from '../internal/redact.js';
import type { RegistryContext } from './context.js';
import { nextLink } from './link-header.js';
import { send } from './send.js';

export interface PageWalk {
  registry: string;
  scopes: readonly Scope[];
  /** Path of the first page, relative to the registry's base URL. */
  path: string;
  /** `n`: the page size to ask for; the registry may send fewer (or ignore it). */
  pageSize?: number;
  /** The JSON field holding the list: `tags` or `repositories`. */
  field: 'tags' | 'repositories';
  notFoundCode?: string;
  signal?: AbortSignal;
}

/**
 * Walk a paginated list (tags, catalog), one array per page, following
 * `Link: <…>; rel="next"` for at most `maxPages` pages. A next link to
 * another origin, or back to a page already seen, throws REGISTRY_ERROR
 * rather than send the registry's token elsewhere or loop.
 */
export async function* walkPages(ctx: RegistryContext, walk: PageWalk): AsyncGenerator<string[], void, undefined> {
  if (walk.pageSize !== undefined && (!Number.isSafeInteger(walk.pageSize) || walk.pageSize < 1)) {
    throw new Error(`page size must be a positive integer, got ${walk.pageSize}`);
  }
  const { baseUrl } = await ctx.ping(walk.registry, walk.signal);
  let url: URL | undefined = new URL(`${baseUrl}${walk.path}`);
  if (walk.pageSize !== undefined) url.searchParams.set('n', String(walk.pageSize));
  const origin = url.origin;
  const seen = new Set<string>();
  for (let page = 1; url !== undefined; page++) {
    if (page > ctx.limits.maxPages) {
      throw new GantryError('REGISTRY_ERROR', `${walk.registry}: more than ${ctx.limits.maxPages} pages of ${walk.field}; stopping`, {
        hint: 'Ask for larger pages, or check the registry: its pagination may not advance.',
      });
    }
    seen.add(url.href);
    const response = await send(ctx, {
      registry: walk.registry,
      scopes: walk.scopes,
      method: 'GET',
      url,
      headers: { accept: 'application/json' },
      ...(walk.signal ? { signal: walk.signal } : {}),
    });
    if (response.status !== 200) {
      throw await readRegistryError(response, 'GET', walk.notFoundCode ? { notFoundCode: walk.notFoundCode } : {});
    }
    const { bytes, truncated } = await response.read(ctx.limits.maxPageBytes);
    if (truncated) throw badPage(url, `larger than ${ctx.limits.maxPageBytes} bytes`);
    const items = decodePage(bytes, walk.field, url);
    const next = nextLink(response.headerValues('link'), url);
    if (next && next.origin !== origin) throw badPage(url, `its next link leads to another origin (${redactUrl(next)})`);
    if (next && seen.has(next.href)) throw badPage(url, 'its next link leads back to a page already read');
    yield items;
    url = next;
  }
}

function decodePage(bytes: Uint8Array, field: string, url: URL): string[] {
  const parsed = parseJson(bytes);
  if (!parsed.ok) throw badPage(url, `not JSON (syntax error at ${parsed.where})`);
  const body = parsed.value;
  if (typeof body !== 'object' || body === null) throw badPage(url, 'not a JSON object');
  const list = (body as Record<string, unknown>)[field];
  // Registries send `"tags": null` for a repository without tags.
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) throw badPage(url, `"${field}" is not a list of strings`);
  return list as string[];
}

function badPage(url: URL, why: string): GantryError {
  return new GantryError('REGISTRY_ERROR', `the page at ${redactUrl(url)} is unusable: ${why}`, { details: { url: redactUrl(url) } });
}
