import { createHash } from 'node:crypto';
import { http, HttpResponse, type RequestHandler } from 'msw';

/**
 * A small model of a distribution registry and its token service as msw
 * handlers, enough to exercise gantry's client end to end over real HTTP:
 * `/v2/`, manifests (GET/HEAD), blobs (optionally redirected), tags and
 * catalog with `Link` pagination, and Basic or Bearer auth with scoped tokens.
 * Provider quirks are layered on top of it in the provider tests.
 */

export interface StoredManifest {
  bytes: Uint8Array;
  mediaType: string;
}

export interface FakeRepository {
  /** By tag and by digest. */
  manifests: Record<string, StoredManifest>;
  blobs: Record<string, Uint8Array>;
  /** Anonymous clients may pull. */
  public?: boolean;
}

export type FakeAuth =
  | { scheme: 'none' }
  | { scheme: 'basic'; users: Record<string, string>; realm?: string }
  | { scheme: 'bearer'; realm: string; service: string };

export interface FakeRegistryConfig {
  /** The registry's origin, `http://127.0.0.1:PORT`. */
  origin: string;
  auth: FakeAuth;
  repositories: Record<string, FakeRepository>;
  /** Send Docker-Content-Digest on HEAD (default true; some registries omit it). */
  headDigest?: boolean;
  /** Extra headers on every manifest response (`ratelimit-*`). */
  manifestHeaders?: Record<string, string>;
  /** Redirect blob GETs to `${blobRedirect}/storage/<digest>?X-Amz-Signature=…`. */
  blobRedirect?: string;
  /** Largest `n` honoured for tags and catalog (default 100); pages hold at most this many. */
  maxPageSize?: number;
  /** Make pagination `Link`s absolute (default relative). */
  absoluteLinks?: boolean;
}

export interface TokenServiceConfig {
  /** Full URL of the token endpoint, as the registry's realm names it. */
  realm: string;
  service: string;
  users: Record<string, string>;
  /** Refresh (identity) tokens and the user each stands for. */
  refreshTokens?: Record<string, string>;
  /** Repositories anonymous clients may pull. */
  publicRepositories?: string[];
  /** Serve the OAuth2 POST (default true); false answers it 404, as token services without OAuth2. */
  oauth?: boolean;
  expiresIn?: number;
  /** Name of the token field (default `token`). */
  tokenField?: 'token' | 'access_token';
  /** Users limited to these repositories (others get every action they ask for anywhere). */
  restrictedUsers?: Record<string, string[]>;
  /** Every token issued, for tests that assert it never leaks. */
  issued?: string[];
}

interface Grant {
  user: string | null;
  service: string;
  access: Array<{ type: string; name: string; actions: string[] }>;
}

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** An OCI image (config, one layer, manifest) plus an index naming it, as bytes. */
export function imageFixture(label = 'demo') {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, label }));
  const layer = Buffer.from(`layer of ${label}`);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
    }),
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256(manifest),
          size: manifest.length,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    }),
  );
  return {
    config,
    configDigest: sha256(config),
    layer,
    layerDigest: sha256(layer),
    manifest,
    manifestDigest: sha256(manifest),
    index,
    indexDigest: sha256(index),
  };
}

/** A repository holding `imageFixture()` under `tag` (and by digest), its index under `${tag}-index`. */
export function repositoryWith(image: ReturnType<typeof imageFixture>, options: { tag?: string; public?: boolean; tags?: string[] } = {}): FakeRepository {
  const tag = options.tag ?? 'latest';
  const manifest = { bytes: image.manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' };
  const index = { bytes: image.index, mediaType: 'application/vnd.oci.image.index.v1+json' };
  const manifests: Record<string, StoredManifest> = {
    [tag]: manifest,
    [image.manifestDigest]: manifest,
    [`${tag}-index`]: index,
    [image.indexDigest]: index,
  };
  for (const extra of options.tags ?? []) manifests[extra] = manifest;
  return { manifests, blobs: { [image.configDigest]: image.config, [image.layerDigest]: image.layer }, public: options.public ?? false };
}

function encodeToken(grant: Grant): string {
  return `fake.${Buffer.from(JSON.stringify(grant)).toString('base64url')}`;
}

function decodeToken(token: string): Grant | undefined {
  if (!token.startsWith('fake.')) return undefined;
  try {
    return JSON.parse(Buffer.from(token.slice(5), 'base64url').toString('utf8')) as Grant;
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

function basicPair(header: string | null): { user: string; password: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
}

function basicUser(header: string | null, users: Record<string, string>): string | undefined {
  const pair = basicPair(header);
  return pair && Object.hasOwn(users, pair.user) && users[pair.user] === pair.password ? pair.user : undefined;
}

/** The token endpoint: GET with Basic or anonymous, POST with a refresh token (OAuth2). */
export function tokenHandlers(config: TokenServiceConfig): RequestHandler[] {
  const url = new URL(config.realm);
  const endpoint = `${url.origin}${url.pathname}`;
  const field = config.tokenField ?? 'token';
  const issue = (user: string | null, scopes: string[]) => {
    const access = scopes.flatMap((text) => {
      const first = text.indexOf(':');
      const last = text.lastIndexOf(':');
      const type = text.slice(0, first);
      const name = text.slice(first + 1, last);
      const asked = text.slice(last + 1).split(',');
      const limited = user !== null ? config.restrictedUsers?.[user] : undefined;
      const isPublic = (config.publicRepositories ?? []).includes(name);
      let allowed: string[];
      if (user === null) allowed = isPublic ? asked.filter((a) => a === 'pull') : [];
      else if (limited && !limited.includes(name)) allowed = isPublic ? asked.filter((a) => a === 'pull') : [];
      else allowed = asked;
      return allowed.length > 0 ? [{ type, name, actions: allowed }] : [];
    });
    const token = encodeToken({ user, service: config.service, access });
    config.issued?.push(token);
    return HttpResponse.json({ [field]: token, expires_in: config.expiresIn ?? 300, issued_at: new Date().toISOString() });
  };
  return [
    http.get(endpoint, ({ request }) => {
      const params = new URL(request.url).searchParams;
      if (params.get('service') !== config.service) return HttpResponse.json({ details: 'unknown service' }, { status: 400 });
      const header = request.headers.get('authorization');
      let user: string | null = null;
      if (header) {
        // A refresh token is accepted as the Basic password for any username, as ACR does.
        const pair = basicPair(header);
        const refreshUser = pair ? config.refreshTokens?.[pair.password] : undefined;
        const found = basicUser(header, config.users) ?? refreshUser;
        if (!found) return HttpResponse.json({ details: 'incorrect username or password' }, { status: 401 });
        user = found;
      }
      return issue(user, params.getAll('scope'));
    }),
    http.post(endpoint, async ({ request }) => {
      if (config.oauth === false) return new HttpResponse('404 page not found', { status: 404 });
      const form = new URLSearchParams(await request.text());
      if (form.get('grant_type') !== 'refresh_token' || form.get('service') !== config.service) {
        return HttpResponse.json({ error: 'unsupported_grant_type' }, { status: 400 });
      }
      const user = config.refreshTokens?.[form.get('refresh_token') ?? ''];
      if (!user) return HttpResponse.json({ error: 'invalid_grant' }, { status: 401 });
      return issue(user, (form.get('scope') ?? '').split(' ').filter(Boolean));
    }),
  ];
}

/** The registry API. */
export function registryHandlers(config: FakeRegistryConfig): RequestHandler[] {
  const maxPage = config.maxPageSize ?? 100;

  const challengeHeader = (scope?: string, error?: string): string => {
    const auth = config.auth;
    let header: string;
    if (auth.scheme === 'basic') header = `Basic realm="${auth.realm ?? 'Registry Realm'}"`;
    else if (auth.scheme === 'bearer') {
      header = `Bearer realm="${auth.realm}",service="${auth.service}"${scope ? `,scope="${scope}"` : ''}${error ? `,error="${error}"` : ''}`;
    } else header = '';
    return header;
  };

  const unauthorizedBody = (scope?: string, error?: string): Response =>
    HttpResponse.json(
      { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
      { status: 401, headers: { 'www-authenticate': challengeHeader(scope, error) } },
    );

  /** undefined when allowed, else the 401 to send. */
  const check = (request: Request, need?: { type: string; name: string; action: string }): Response | undefined => {
    const auth = config.auth;
    if (auth.scheme === 'none') return undefined;
    const header = request.headers.get('authorization');
    const scope = need ? `${need.type}:${need.name}:${need.action}` : undefined;
    if (auth.scheme === 'basic') return basicUser(header, auth.users) ? undefined : unauthorizedBody();
    if (!header?.startsWith('Bearer ')) return unauthorizedBody(scope);
    const grant = decodeToken(header.slice(7));
    if (!grant || grant.service !== auth.service) return unauthorizedBody(scope, 'invalid_token');
    if (!need) return undefined;
    const ok = grant.access.some((a) => a.type === need.type && a.name === need.name && (a.actions.includes(need.action) || a.actions.includes('*')));
    return ok ? undefined : unauthorizedBody(scope, 'insufficient_scope');
  };

  const notFound = (code: string, message: string) => HttpResponse.json({ errors: [{ code, message }] }, { status: 404 });

  const page = (request: Request, all: string[], field: string, extra: Record<string, unknown>) => {
    const url = new URL(request.url);
    const n = Math.min(Number(url.searchParams.get('n') ?? maxPage) || maxPage, maxPage);
    const last = url.searchParams.get('last');
    const sorted = [...all].sort();
    const start = last ? sorted.findIndex((t) => t > last) : 0;
    const items = start === -1 ? [] : sorted.slice(start, start + n);
    const headers: Record<string, string> = {};
    const lastItem = items.at(-1);
    if (lastItem !== undefined && sorted.indexOf(lastItem) < sorted.length - 1) {
      const next = `${url.pathname}?n=${n}&last=${encodeURIComponent(lastItem)}`;
      headers.link = `<${config.absoluteLinks ? `${url.origin}${next}` : next}>; rel="next"`;
    }
    return HttpResponse.json({ ...extra, [field]: items }, { headers });
  };

  return [
    http.all(`${config.origin}/v2/*`, ({ request }) => {
      const url = new URL(request.url);
      const path = url.pathname;
      if (path === '/v2/' || path === '/v2') return check(request) ?? HttpResponse.json({});
      if (path === '/v2/_catalog') {
        const denied = check(request, { type: 'registry', name: 'catalog', action: '*' });
        return denied ?? page(request, Object.keys(config.repositories), 'repositories', {});
      }
      const match = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.+)$/.exec(path);
      if (!match) return new HttpResponse('not found', { status: 404 });
      const [, name = '', kind, ref = ''] = match;
      const denied = check(request, { type: 'repository', name, action: 'pull' });
      if (denied) return denied;
      const repo = config.repositories[name];
      if (!repo) return notFound('NAME_UNKNOWN', 'repository name not known to registry');
      if (kind === 'tags' && ref === 'list') {
        const tags = Object.keys(repo.manifests).filter((k) => !k.includes(':'));
        return page(request, tags, 'tags', { name });
      }
      if (kind === 'manifests') {
        const manifest = repo.manifests[ref];
        if (!manifest) return notFound('MANIFEST_UNKNOWN', 'manifest unknown');
        const headers: Record<string, string> = {
          'content-type': manifest.mediaType,
          'content-length': String(manifest.bytes.byteLength),
          ...config.manifestHeaders,
        };
        if (request.method !== 'HEAD' || config.headDigest !== false) headers['docker-content-digest'] = sha256(manifest.bytes);
        if (request.method === 'HEAD') return new HttpResponse(null, { status: 200, headers });
        return new HttpResponse(manifest.bytes, { status: 200, headers });
      }
      if (kind === 'blobs') {
        const blob = repo.blobs[ref];
        if (!blob) return notFound('BLOB_UNKNOWN', 'blob unknown to registry');
        if (config.blobRedirect) {
          return new HttpResponse(null, { status: 307, headers: { location: `${config.blobRedirect}/storage/${ref}?X-Amz-Signature=sig-${ref.slice(7, 15)}` } });
        }
        return serveBlob(request, blob);
      }
      return new HttpResponse('not found', { status: 404 });
    }),
  ];
}

/** Serve blob bytes, honouring `Range: bytes=N-`. */
export function serveBlob(request: Request, blob: Uint8Array): HttpResponse<Uint8Array> {
  const range = /^bytes=(\d+)-$/.exec(request.headers.get('range') ?? '');
  if (range) {
    const start = Number(range[1]);
    const part = blob.subarray(start);
    return new HttpResponse(part, {
      status: 206,
      headers: { 'content-range': `bytes ${start}-${blob.byteLength - 1}/${blob.byteLength}`, 'content-length': String(part.byteLength) },
    }) as HttpResponse<Uint8Array>;
  }
  return new HttpResponse(blob, {
    status: 200,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.byteLength) },
  }) as HttpResponse<Uint8Array>;
}

/** Object storage behind a blob redirect: serves any digest of the given blobs, records nothing itself. */
export function storageHandlers(origin: string, blobs: Record<string, Uint8Array>): RequestHandler[] {
  return [
    http.get(`${origin}/storage/:digest`, ({ request, params }) => {
      const blob = blobs[String(params.digest)];
      if (!blob) return new HttpResponse('<Error><Code>NoSuchKey</Code></Error>', { status: 404, headers: { 'content-type': 'application/xml' } });
      if (request.headers.get('authorization')) {
        // S3 refuses a request carrying both a signature and an Authorization header.
        return new HttpResponse('<Error><Code>InvalidArgument</Code></Error>', { status: 400, headers: { 'content-type': 'application/xml' } });
      }
      return serveBlob(request, blob);
    }),
  ];
}
