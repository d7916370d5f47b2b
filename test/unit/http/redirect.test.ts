import { describe, expect, it } from 'vitest';
import { nextHop } from '../../../src/http/index.js';

const base = new URL('https://registry.example/v2/app/blobs/sha256:aa');
const headers = { authorization: 'Bearer t', cookie: 'c=1', 'x-registry-auth': 'x', accept: '*/*', 'content-type': 'application/json' };

describe('nextHop', () => {
  it('is undefined for responses that are not redirects or lack a Location', () => {
    expect(nextHop({ status: 200, location: '/x', url: base, method: 'GET', headers })).toBeUndefined();
    expect(nextHop({ status: 304, location: '/x', url: base, method: 'GET', headers })).toBeUndefined();
    expect(nextHop({ status: 307, location: undefined, url: base, method: 'GET', headers })).toBeUndefined();
  });

  it('drops credential headers when the origin changes, also for a scheme or port change', () => {
    for (const location of ['https://cdn.example/blob', 'http://registry.example/v2/x', 'https://registry.example:8443/v2/x']) {
      const hop = nextHop({ status: 307, location, url: base, method: 'GET', headers });
      expect(hop?.headers).toEqual({ accept: '*/*', 'content-type': 'application/json' });
    }
  });

  it('keeps headers on the same origin and resolves relative locations', () => {
    const hop = nextHop({ status: 308, location: '../other#frag', url: base, method: 'PUT', headers });
    expect(hop?.url.href).toBe('https://registry.example/v2/app/other');
    expect(hop?.headers).toEqual(headers);
    expect(hop).toMatchObject({ method: 'PUT', keepBody: true });
  });

  it('turns 303, and 301/302 after a POST, into a GET without body headers', () => {
    expect(nextHop({ status: 303, location: '/x', url: base, method: 'PUT', headers })).toMatchObject({ method: 'GET', keepBody: false });
    const hop = nextHop({ status: 302, location: '/x', url: base, method: 'POST', headers });
    expect(hop).toMatchObject({ method: 'GET', keepBody: false });
    expect(hop?.headers['content-type']).toBeUndefined();
    expect(nextHop({ status: 302, location: '/x', url: base, method: 'GET', headers })).toMatchObject({ method: 'GET', keepBody: true });
    expect(nextHop({ status: 303, location: '/x', url: base, method: 'HEAD', headers })).toMatchObject({ method: 'HEAD' });
  });

  it('refuses a redirect to another scheme with NETWORK', () => {
    expect(() => nextHop({ status: 302, location: 'file:///etc/passwd', url: base, method: 'GET', headers })).toThrow(
      expect.objectContaining({ code: 'NETWORK' }),
    );
  });
});
