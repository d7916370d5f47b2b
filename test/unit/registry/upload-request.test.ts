import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '../../../src/http/types.js';
import { confirmedOffset, uploadLocation } from '../../../src/registry/upload-request.js';

function response(url: string, headers: Record<string, string>): HttpResponse {
  return {
    status: 202,
    headers,
    url,
    body: Readable.from([]),
    headerValues: (name) => (headers[name] === undefined ? [] : [headers[name] as string]),
    read: async () => ({ bytes: new Uint8Array(), truncated: false }),
    discard: async () => undefined,
  };
}

describe('confirmedOffset', () => {
  it('reads distribution\'s inclusive end', () => {
    expect(confirmedOffset('0-99')).toBe(100);
    expect(confirmedOffset('bytes=0-1048575')).toBe(1048576);
    expect(confirmedOffset(' 0-4 ')).toBe(5);
  });

  it('tells an empty session from a one-byte one by what the caller expects', () => {
    expect(confirmedOffset('0-0')).toBe(0);
    expect(confirmedOffset('0-0', 0)).toBe(0);
    expect(confirmedOffset('0-0', 1)).toBe(1);
  });

  it('gives undefined for a missing or foreign range', () => {
    expect(confirmedOffset(undefined)).toBeUndefined();
    expect(confirmedOffset('')).toBeUndefined();
    expect(confirmedOffset('5-99')).toBeUndefined();
    expect(confirmedOffset('bytes 0-99/100')).toBeUndefined();
    expect(confirmedOffset('0-99999999999999999999')).toBeUndefined();
  });
});

describe('uploadLocation', () => {
  it('resolves a relative Location against the URL that answered, query state included', () => {
    const r = response('http://127.0.0.1:5000/v2/org/app/blobs/uploads/', { location: '/v2/org/app/blobs/uploads/u1?_state=abc%3D%3D' });
    expect(uploadLocation(r, 'POST')).toBe('http://127.0.0.1:5000/v2/org/app/blobs/uploads/u1?_state=abc%3D%3D');
  });

  it('keeps an absolute Location, on whatever origin', () => {
    const r = response('http://127.0.0.1:5000/v2/org/app/blobs/uploads/u1', { location: 'https://uploads.example/session/u1?sig=x' });
    expect(uploadLocation(r, 'PATCH')).toBe('https://uploads.example/session/u1?sig=x');
  });

  it('fails with REGISTRY_ERROR when there is none', () => {
    const r = response('http://127.0.0.1:5000/v2/org/app/blobs/uploads/', {});
    expect(() => uploadLocation(r, 'POST')).toThrow(expect.objectContaining({ code: 'REGISTRY_ERROR' }));
  });
});
