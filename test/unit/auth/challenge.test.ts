import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate } from '../../../src/auth/challenge.js';

describe('parseWwwAuthenticate: real registries', () => {
  it.each([
    [
      'Docker Hub',
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } }],
    ],
    [
      'GHCR',
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:octo-org/app:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:octo-org/app:pull' } }],
    ],
    [
      'ECR',
      'Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
      [{ scheme: 'basic', params: { realm: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com/', service: 'ecr.amazonaws.com' } }],
    ],
    [
      'Harbor',
      'Bearer realm="https://harbor.example.com/service/token",service="harbor-registry",scope="repository:library/nginx:pull,push"',
      [{ scheme: 'bearer', params: { realm: 'https://harbor.example.com/service/token', service: 'harbor-registry', scope: 'repository:library/nginx:pull,push' } }],
    ],
    [
      'Quay',
      'Bearer realm="https://quay.io/v2/auth",service="quay.io",scope="repository:coreos/etcd:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://quay.io/v2/auth', service: 'quay.io', scope: 'repository:coreos/etcd:pull' } }],
    ],
    [
      'ACR with an insufficient_scope error',
      'Bearer realm="https://myreg.azurecr.io/oauth2/token",service="myreg.azurecr.io",scope="repository:samples/hello:pull",error="insufficient_scope"',
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://myreg.azurecr.io/oauth2/token', service: 'myreg.azurecr.io', scope: 'repository:samples/hello:pull', error: 'insufficient_scope' },
        },
      ],
    ],
    [
      'distribution with several scopes',
      'Bearer realm="https://auth.example.com/token",service="registry",scope="repository:a/b:pull repository:c/d:pull,push"',
      [{ scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry', scope: 'repository:a/b:pull repository:c/d:pull,push' } }],
    ],
    ['a bare registry ping', 'Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
  ])('%s', (_label, header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });
});

describe('parseWwwAuthenticate: RFC 7235 syntax', () => {
  it('splits several challenges in one header value', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://a/token",service="a", Basic realm="x"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://a/token', service: 'a' } },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
  });

  it('reads each of several header values', () => {
    expect(parseWwwAuthenticate(['Basic realm="x"', 'Bearer realm="https://a/token"'])).toEqual([
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'https://a/token' } },
    ]);
  });

  it('keeps commas, spaces and = inside quoted strings', () => {
    expect(parseWwwAuthenticate('Bearer scope="repository:a:pull,push", realm="https://x/a?b=c, d"')).toEqual([
      { scheme: 'bearer', params: { scope: 'repository:a:pull,push', realm: 'https://x/a?b=c, d' } },
    ]);
  });

  it('resolves backslash escapes in quoted strings', () => {
    expect(parseWwwAuthenticate('Basic realm="say \\"hi\\" \\\\ bye"')).toEqual([{ scheme: 'basic', params: { realm: 'say "hi" \\ bye' } }]);
  });

  it('accepts unquoted values, including URLs with a query string', () => {
    expect(parseWwwAuthenticate('Bearer realm=https://quay.io/v2/auth?foo=bar,service=quay.io')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://quay.io/v2/auth?foo=bar', service: 'quay.io' } },
    ]);
  });

  it('keeps a quoted realm that carries a query string', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://quay.io/v2/auth?foo=bar&x=1",service="quay.io"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://quay.io/v2/auth?foo=bar&x=1', service: 'quay.io' } },
    ]);
  });

  it('lowercases scheme and parameter names but not values', () => {
    expect(parseWwwAuthenticate('BEARER Realm="https://A/Token",SERVICE="Reg"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://A/Token', service: 'Reg' } },
    ]);
  });

  it('allows whitespace around = and after commas', () => {
    expect(parseWwwAuthenticate('Bearer  realm = "r" ,\tservice=\t"s"')).toEqual([{ scheme: 'bearer', params: { realm: 'r', service: 's' } }]);
  });

  it('reads token68 credentials, alone or followed by other challenges', () => {
    expect(parseWwwAuthenticate('Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnag==, Basic realm="x"')).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'YIIGhgYGKwYBBQUCoIIGejCCBnag==' },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
  });

  it('reads schemes without parameters', () => {
    expect(parseWwwAuthenticate('Negotiate, NTLM, Basic realm="x"')).toEqual([
      { scheme: 'negotiate', params: {} },
      { scheme: 'ntlm', params: {} },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
  });

  it('keeps the first of repeated parameters', () => {
    expect(parseWwwAuthenticate('Bearer realm="first",realm="second"')).toEqual([{ scheme: 'bearer', params: { realm: 'first' } }]);
  });

  it('tolerates params separated by spaces only', () => {
    expect(parseWwwAuthenticate('Bearer realm="r" service="s"')).toEqual([{ scheme: 'bearer', params: { realm: 'r', service: 's' } }]);
  });

  it('tolerates empty list elements', () => {
    expect(parseWwwAuthenticate(', ,Basic realm="x",, ,')).toEqual([{ scheme: 'basic', params: { realm: 'x' } }]);
  });
});

describe('parseWwwAuthenticate: garbage', () => {
  it.each([
    ['an empty string', '', []],
    ['whitespace', '   \t ', []],
    ['an empty array', [], []],
    ['punctuation only', '"=,;', []],
    ['an unterminated quoted string', 'Bearer realm="https://x/token', [{ scheme: 'bearer', params: { realm: 'https://x/token' } }]],
    ['a trailing backslash', 'Basic realm="a\\', [{ scheme: 'basic', params: { realm: 'a\\' } }]],
    ['a parameter without a value', 'Bearer realm=,service="s"', [{ scheme: 'bearer', params: { realm: '', service: 's' } }]],
    ['junk before a good challenge', '"junk", Basic realm="x"', [{ scheme: 'basic', params: { realm: 'x' } }]],
  ])('returns what it can from %s', (_label, header, expected) => {
    expect(parseWwwAuthenticate(header as string | string[])).toEqual(expected);
  });

  it('never throws, whatever the header values', () => {
    const alphabet = fc.constantFrom('B', 'e', 'a', 'r', ' ', '\t', ',', '=', '"', '\\', 'x', '/', ':', '?', '\u00e9', '\u0000');
    const headerish = fc.array(alphabet, { maxLength: 60 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), headerish), fc.array(fc.oneof(fc.string(), headerish), { maxLength: 4 }), (one, many) => {
        const parsed = [...parseWwwAuthenticate(one), ...parseWwwAuthenticate(many)];
        for (const c of parsed) {
          expect(c.scheme).toBe(c.scheme.toLowerCase());
          expect(c.scheme.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parses what it formats: any token params in quoted strings round-trip', () => {
    const token = fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/);
    const value = fc.string({ maxLength: 30 });
    fc.assert(
      fc.property(token, fc.dictionary(token, value, { maxKeys: 5 }), (scheme, params) => {
        const quote = (v: string) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
        const header = `${scheme} ${Object.entries(params)
          .map(([k, v]) => `${k}=${quote(v)}`)
          .join(', ')}`;
        const [first, ...rest] = parseWwwAuthenticate(header);
        expect(rest).toEqual([]);
        expect(first).toEqual({ scheme, params: Object.keys(params).length === 0 ? {} : params });
      }),
    );
  });
});
