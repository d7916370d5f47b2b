import { X509Certificate, createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A token server for the distribution token auth flow, for tests only:
 * docs/spec/auth/token.md (GET) and docs/spec/auth/oauth.md (POST) of
 * distribution 2.8, signing what registry/auth/token verifies: an RS256 JWT
 * whose `x5c` header chain ends at a cert in the registry's `rootcertbundle`,
 * with `iss` = issuer, `aud` = service (a string in 2.8) and `access` claims.
 */

/** Actions on resources whose `name` matches a glob (`*` matches any run of characters, `/` included). */
export interface AccessGrant {
  /** Resource type; default `repository` (`registry` for `registry:catalog:*`). */
  type?: string;
  name: string;
  /** Granted actions; `*` grants whatever is asked. */
  actions: string[];
}

export interface TokenUser {
  username: string;
  password: string;
  access: AccessGrant[];
}

export interface TokenIssuerOptions {
  /** The RSA key and certificate that sign tokens; the cert goes in `x5c`. */
  signer: { certFile: string; keyFile: string };
  /** Serve HTTPS with this certificate; plain HTTP when absent. */
  tls?: { certFile: string; keyFile: string };
  users?: TokenUser[];
  /** Repository globs anonymous clients may `pull`; default none. */
  publicRepositories?: string[];
  /** `iss` claim; must equal the registry's `auth.token.issuer`. */
  issuer?: string;
  /** Expected `service` parameter and `aud` claim; must equal `auth.token.service`. */
  service?: string;
  /** Token lifetime in seconds; default 300. Changeable later with `setExpiresIn`. */
  expiresIn?: number;
  /** Whether POST (OAuth2) is served; when false it answers 404 as the spec lets servers do. Default true. */
  oauth?: boolean;
}

/** One request the issuer answered. Never holds a password or token. */
export interface TokenRequestRecord {
  method: string;
  /** `basic` / `anonymous` for GET; the `grant_type` for POST. */
  grant: string;
  /** The authenticated user, when there was one. */
  username?: string;
  /** The `account` query parameter, as sent. */
  account?: string;
  service?: string;
  clientId?: string;
  /** Each scope asked for, split on spaces, in order. */
  scopes: string[];
  /** Scopes granted, `type:name:actions`. */
  granted: string[];
  offline: boolean;
  status: number;
}

export interface TokenIssuer {
  /** Base URL, e.g. `https://127.0.0.1:43123`. */
  url: string;
  /** The token endpoint, for the registry's `auth.token.realm`. */
  realm: string;
  issuer: string;
  service: string;
  /** Requests answered so far (token cache tests count these). */
  readonly requests: readonly TokenRequestRecord[];
  /** Forget recorded requests. */
  resetRequests(): void;
  /** Change the lifetime of tokens issued from now on. */
  setExpiresIn(seconds: number): void;
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

interface Resource {
  type: string;
  name: string;
  actions: string[];
}

interface Subject {
  username?: string;
  grants: AccessGrant[];
}

const SCOPE = /^([a-z0-9]+)(?:\([a-z0-9]+\))?:(.+):([a-z0-9*]+(?:,[a-z0-9*]+)*)?$/;
const MAX_FORM_BYTES = 64 * 1024;

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Parse `type[(class)]:name:actions`; the name may itself hold colons (a registry host with a port). */
function parseScope(scope: string): Resource {
  const m = SCOPE.exec(scope);
  if (!m) throw new HttpFailure(400, { errors: [{ code: 'INVALID_SCOPE', message: `malformed scope ${JSON.stringify(scope)}` }] });
  return { type: m[1] ?? '', name: m[2] ?? '', actions: m[3] ? m[3].split(',') : [] };
}

/** Intersect what is asked with what the subject holds (token.md: a subset is not an error). */
function authorize(requested: Resource[], grants: AccessGrant[]): Resource[] {
  const merged = new Map<string, Resource>();
  for (const r of requested) {
    const held = new Set<string>();
    for (const g of grants) {
      if ((g.type ?? 'repository') === r.type && globToRegExp(g.name).test(r.name)) for (const a of g.actions) held.add(a);
    }
    const allowed = held.has('*') ? r.actions : r.actions.filter((a) => held.has(a));
    if (allowed.length === 0) continue;
    const key = `${r.type}\u0000${r.name}`;
    const prev = merged.get(key);
    if (prev) prev.actions = [...new Set([...prev.actions, ...allowed])];
    else merged.set(key, { type: r.type, name: r.name, actions: [...new Set(allowed)] });
  }
  return [...merged.values()];
}

function splitScopes(values: string[]): string[] {
  return values.flatMap((v) => v.split(' ')).filter((s) => s.length > 0);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new HttpFailure(400, { error: 'invalid_request', error_description: 'expected application/x-www-form-urlencoded' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new HttpFailure(413, { error: 'invalid_request', error_description: 'form too large' });
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length), ...headers });
  res.end(bytes);
}

/**
 * Start a token issuer on 127.0.0.1 (an ephemeral port). Throws when the
 * signer is not an RSA key or its files cannot be read. The returned issuer
 * answers GET and POST on `/token`, 404 elsewhere, and records every request.
 */
export async function startTokenIssuer(options: TokenIssuerOptions): Promise<TokenIssuer> {
  const [certPem, keyPem] = await Promise.all([readFile(options.signer.certFile), readFile(options.signer.keyFile)]);
  const key: KeyObject = createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`token signer must be an RSA key for RS256, got ${String(key.asymmetricKeyType)}`);
  const x5c = [new X509Certificate(certPem).raw.toString('base64')];
  const issuer = options.issuer ?? 'gantry-test-issuer';
  const service = options.service ?? 'gantry-test-registry';
  const users = new Map((options.users ?? []).map((u) => [u.username, u]));
  const anonymous: AccessGrant[] = (options.publicRepositories ?? []).map((name) => ({ name, actions: ['pull'] }));
  const refreshTokens = new Map<string, string>();
  const requests: TokenRequestRecord[] = [];
  let expiresIn = options.expiresIn ?? 300;

  const mint = (subject: Subject, access: Resource[]): { token: string; issuedAt: Date } => {
    const issuedAt = new Date();
    const now = Math.floor(issuedAt.getTime() / 1000);
    const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c }));
    const claims = base64url(
      JSON.stringify({
        iss: issuer,
        sub: subject.username ?? '',
        aud: service,
        exp: now + expiresIn,
        nbf: now,
        iat: now,
        jti: randomBytes(12).toString('hex'),
        access,
      }),
    );
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), key);
    return { token: `${header}.${claims}.${base64url(signature)}`, issuedAt };
  };

  const checkService = (value: string | null): void => {
    if (value !== service) {
      throw new HttpFailure(400, {
        errors: [{ code: 'INVALID_REQUEST', message: `unknown service ${JSON.stringify(value)}, expected ${JSON.stringify(service)}` }],
      });
    }
  };

  const login = (username: string, password: string, deny: () => HttpFailure): Subject => {
    const user = users.get(username);
    if (!user || user.password !== password) throw deny();
    return { username, grants: user.access };
  };

  const basicDenied = (): HttpFailure =>
    new HttpFailure(401, { errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] }, {
      'www-authenticate': `Basic realm="${issuer}"`,
    });
  // token.md says a failed authentication is a 401; we answer the OAuth2 form the same way.
  const grantDenied = (description: string) => (): HttpFailure =>
    new HttpFailure(401, { error: 'invalid_grant', error_description: description });

  const handleGet = (req: IncomingMessage, url: URL, record: TokenRequestRecord): unknown => {
    const q = url.searchParams;
    record.service = q.get('service') ?? undefined;
    record.account = q.get('account') ?? undefined;
    record.clientId = q.get('client_id') ?? undefined;
    record.scopes = splitScopes(q.getAll('scope'));
    record.offline = q.get('offline_token') === 'true';
    const authz = req.headers.authorization;
    let subject: Subject = { grants: anonymous };
    if (authz !== undefined) {
      record.grant = 'basic';
      const m = /^Basic\s+(\S+)$/i.exec(authz);
      if (!m) throw basicDenied();
      const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw basicDenied();
      subject = login(decoded.slice(0, colon), decoded.slice(colon + 1), basicDenied);
      record.username = subject.username;
    }
    checkService(q.get('service'));
    const access = authorize(record.scopes.map(parseScope), subject.grants);
    record.granted = access.map((r) => `${r.type}:${r.name}:${r.actions.join(',')}`);
    const { token, issuedAt } = mint(subject, access);
    const body: Record<string, unknown> = { token, access_token: token, expires_in: expiresIn, issued_at: issuedAt.toISOString() };
    if (record.offline && subject.username !== undefined) {
      const refresh = randomBytes(24).toString('base64url');
      refreshTokens.set(refresh, subject.username);
      body.refresh_token = refresh;
    }
    return body;
  };

  const handlePost = async (req: IncomingMessage, record: TokenRequestRecord): Promise<unknown> => {
    const form = await readForm(req);
    const grantType = form.get('grant_type') ?? '';
    record.grant = grantType;
    record.service = form.get('service') ?? undefined;
    record.clientId = form.get('client_id') ?? undefined;
    record.scopes = splitScopes(form.getAll('scope'));
    record.offline = form.get('access_type') === 'offline';
    if (!record.clientId) throw new HttpFailure(400, { error: 'invalid_request', error_description: 'client_id is required' });
    let subject: Subject;
    let refresh: string | undefined;
    if (grantType === 'password') {
      subject = login(form.get('username') ?? '', form.get('password') ?? '', grantDenied('incorrect username or password'));
      if (record.offline) {
        refresh = randomBytes(24).toString('base64url');
        refreshTokens.set(refresh, subject.username ?? '');
      }
    } else if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const username = refreshTokens.get(presented);
      const user = username === undefined ? undefined : users.get(username);
      if (!user) throw grantDenied('unknown refresh token')();
      subject = { username: user.username, grants: user.access };
      // oauth.md: a refresh grant returns the same refresh token, never a new one.
      refresh = presented;
    } else {
      throw new HttpFailure(400, { error: 'unsupported_grant_type', error_description: `grant_type ${JSON.stringify(grantType)}` });
    }
    record.username = subject.username;
    checkService(form.get('service'));
    const access = authorize(record.scopes.map(parseScope), subject.grants);
    record.granted = access.map((r) => `${r.type}:${r.name}:${r.actions.join(',')}`);
    const { token, issuedAt } = mint(subject, access);
    return {
      access_token: token,
      token_type: 'Bearer',
      scope: record.granted.join(' '),
      expires_in: expiresIn,
      issued_at: issuedAt.toISOString(),
      ...(refresh !== undefined ? { refresh_token: refresh } : {}),
    };
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://issuer.invalid');
    const record: TokenRequestRecord = { method: req.method ?? '', grant: 'anonymous', scopes: [], granted: [], offline: false, status: 0 };
    const finish = (status: number, body: unknown, headers?: Record<string, string>): void => {
      record.status = status;
      requests.push(record);
      send(res, status, body, headers);
    };
    const fail = (err: unknown): void => {
      if (err instanceof HttpFailure) finish(err.status, err.body, err.headers);
      else finish(500, { errors: [{ code: 'UNKNOWN', message: String(err) }] });
    };
    if (url.pathname !== '/token') return finish(404, { errors: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });
    if (req.method === 'GET') {
      try {
        finish(200, handleGet(req, url, record));
      } catch (err) {
        fail(err);
      }
      return;
    }
    if (req.method === 'POST') {
      if (options.oauth === false) return finish(404, { errors: [{ code: 'NOT_FOUND', message: 'OAuth2 POST not served' }] });
      handlePost(req, record).then((body) => finish(200, body), fail);
      return;
    }
    finish(405, { errors: [{ code: 'UNSUPPORTED', message: `method ${String(req.method)}` }] }, { allow: 'GET, POST' });
  };

  let server: Server;
  let scheme: string;
  if (options.tls) {
    const [cert, tlsKey] = await Promise.all([readFile(options.tls.certFile), readFile(options.tls.keyFile)]);
    server = createHttpsServer({ cert, key: tlsKey }, handler);
    scheme = 'https';
  } else {
    server = createHttpServer(handler);
    scheme = 'http';
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const base = `${scheme}://127.0.0.1:${port}`;

  return {
    url: base,
    realm: `${base}/token`,
    issuer,
    service,
    requests,
    resetRequests: () => {
      requests.length = 0;
    },
    setExpiresIn: (seconds: number) => {
      if (!Number.isInteger(seconds) || seconds <= 0) throw new Error(`expiresIn must be a positive integer, got ${seconds}`);
      expiresIn = seconds;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The decoded, unverified parts of a JWT, for tests that inspect what was granted. */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, claims, signature] = token.split('.');
  if (header === undefined || claims === undefined || signature === undefined) throw new Error('not a compact JWT');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Record<string, unknown>,
  };
}
