import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Reference } from '../../../src/reference/types.js';
import { createRegistryClient, nextLink, type RegistryClientOptions } from '../../../src/registry/index.js';
import { startMswServer, type MswServer } from '../../helpers/msw-server.js';
import { imageFixture, registryHandlers, repositoryWith, type FakeRegistryConfig } from '../../providers/fake-registry.js';

let server: MswServer;
const image = imageFixture();
const clients: Array<{ close(): Promise<void> }> = [];
const ref: Reference = { registry: 'registry.test', repository: 'org/app' };
const TAGS = ['1.0', '1.1', '1.2', '2.0', '2.1', 'latest', 'latest-index'];

beforeAll(async () => {
  server = await startMswServer();
});
afterEach(async () => {
  server.reset();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => server.close());

function setup(config: Partial<FakeRegistryConfig> = {}, options: Partial<RegistryClientOptions> = {}) {
  server.use(
    ...registryHandlers({
      origin: server.origin,
      auth: { scheme: 'none' },
      repositories: { 'org/app': repositoryWith(image, { tags: ['1.0', '1.1', '1.2', '2.0', '2.1'] }), 'org/b': repositoryWith(image), 'c/d': repositoryWith(image) },
      ...config,
    }),
  );
  const client = createRegistryClient({ version: 'test', env: {}, endpoint: () => server.origin, retry: { baseDelayMs: 1, maxDelayMs: 2 }, ...options });
  clients.push(client);
  return client;
}

async function collect(pages: AsyncIterable<string[]>): Promise<string[][]> {
  const out: string[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('listTags', () => {
  it('follows relative Link headers page by page with the asked page size', async () => {
    const pages = await collect(setup().listTags(ref, { pageSize: 3 }));
    expect(pages).toEqual([TAGS.slice(0, 3), TAGS.slice(3, 6), TAGS.slice(6)]);
    const urls = server.requests.filter((r) => r.url.includes('/tags/list')).map((r) => new URL(r.url));
    expect(urls.map((u) => u.searchParams.get('n'))).toEqual(['3', '3', '3']);
    expect(urls.map((u) => u.searchParams.get('last'))).toEqual([null, '1.2', 'latest']);
  });

  it('follows absolute Link headers', async () => {
    const pages = await collect(setup({ absoluteLinks: true }).listTags(ref, { pageSize: 4 }));
    expect(pages.flat()).toEqual(TAGS);
    expect(pages).toHaveLength(2);
  });

  it('takes the registry page size when none is asked', async () => {
    const pages = await collect(setup({ maxPageSize: 5 }).listTags(ref));
    expect(pages.map((p) => p.length)).toEqual([5, 2]);
  });

  it('treats `"tags": null` as an empty page', async () => {
    const client = setup();
    server.use(http.get(`${server.origin}/v2/org/empty/tags/list`, () => HttpResponse.json({ name: 'org/empty', tags: null })));
    expect(await collect(client.listTags({ ...ref, repository: 'org/empty' }))).toEqual([[]]);
  });

  it('reports an unknown repository as NAME_UNKNOWN', async () => {
    await expect(collect(setup().listTags({ ...ref, repository: 'org/none' }))).rejects.toMatchObject({ code: 'NAME_UNKNOWN' });
  });

  it('stops after the page limit', async () => {
    const client = setup({}, { limits: { maxPages: 2 } });
    await expect(collect(client.listTags(ref, { pageSize: 2 }))).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
    expect(server.requests.filter((r) => r.url.includes('/tags/list'))).toHaveLength(2);
  });

  it('refuses a next link that loops back or leaves the registry', async () => {
    const client = setup();
    server.use(
      http.get(`${server.origin}/v2/org/loop/tags/list`, () =>
        HttpResponse.json({ tags: ['a'] }, { headers: { link: '</v2/org/loop/tags/list>; rel="next"' } }),
      ),
      http.get(`${server.origin}/v2/org/away/tags/list`, () =>
        HttpResponse.json({ tags: ['a'] }, { headers: { link: '<https://elsewhere.example/v2/org/away/tags/list?last=a>; rel="next"' } }),
      ),
    );
    await expect(collect(client.listTags({ ...ref, repository: 'org/loop' }))).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
    await expect(collect(client.listTags({ ...ref, repository: 'org/away' }))).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
  });

  it('rejects a page that is not a tag list', async () => {
    const client = setup();
    server.use(http.get(`${server.origin}/v2/org/bad/tags/list`, () => HttpResponse.json({ tags: [1, 2] })));
    await expect(collect(client.listTags({ ...ref, repository: 'org/bad' }))).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
  });
});

describe('catalog', () => {
  it('lists repositories across pages', async () => {
    const pages = await collect(setup().catalog('registry.test', { pageSize: 2 }));
    expect(pages).toEqual([['c/d', 'org/app'], ['org/b']]);
  });
});

describe('nextLink', () => {
  const base = new URL('https://r.example/v2/app/tags/list?n=2');

  it('finds rel="next" among several links and resolves it', () => {
    const link = '</v2/app/tags/list?n=2&last=b>; rel="next", <https://r.example/v2/app/tags/list?n=2>; rel="first"';
    expect(nextLink([link], base)?.href).toBe('https://r.example/v2/app/tags/list?n=2&last=b');
  });

  it('accepts unquoted and multi-valued rel, in any header value', () => {
    expect(nextLink(['<https://x.example/a>; rel=prev', '</b>;rel=next'], base)?.href).toBe('https://r.example/b');
    expect(nextLink(['</c>; title="x"; rel="last next"'], base)?.href).toBe('https://r.example/c');
  });

  it('is undefined without a next link', () => {
    expect(nextLink([], base)).toBeUndefined();
    expect(nextLink(['</a>; rel="prev"'], base)).toBeUndefined();
    expect(nextLink(['garbage'], base)).toBeUndefined();
  });
});
