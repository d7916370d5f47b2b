import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAuthEntry, encodeAuthEntry } from '../../../src/credentials/auth-entry.js';
import { isGantryError } from '../../../src/errors/index.js';

const context = { file: '/home/u/.docker/config.json', key: 'ghcr.io' };
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

function decodeError(entry: unknown): unknown {
  try {
    decodeAuthEntry(entry, context);
  } catch (err) {
    return err;
  }
  throw new Error('expected decodeAuthEntry to throw');
}

describe('decodeAuthEntry', () => {
  it('splits base64 auth at the first colon, so passwords may contain colons', () => {
    expect(decodeAuthEntry({ auth: b64('robot:pa:ss:word') }, context)).toEqual({ username: 'robot', password: 'pa:ss:word' });
  });

  it('accepts unpadded base64 and trims the NUL padding docker trims', () => {
    expect(decodeAuthEntry({ auth: b64('ab:c').replace(/=+$/, '') }, context)).toEqual({ username: 'ab', password: 'c' });
    expect(decodeAuthEntry({ auth: b64('u:p\0\0') }, context)).toEqual({ username: 'u', password: 'p' });
  });

  it('reads plain username and password fields when auth is absent or empty', () => {
    expect(decodeAuthEntry({ username: 'u', password: 'p' }, context)).toEqual({ username: 'u', password: 'p' });
    expect(decodeAuthEntry({ auth: '', username: 'u', password: 'p' }, context)).toEqual({ username: 'u', password: 'p' });
  });

  it('reads identity and registry tokens', () => {
    expect(decodeAuthEntry({ auth: b64('u:'), identitytoken: 'refresh' }, context)).toEqual({ username: 'u', password: '', identityToken: 'refresh' });
    expect(decodeAuthEntry({ registrytoken: 'bearer-token' }, context)).toEqual({ registryToken: 'bearer-token' });
  });

  it("treats docker's secretless marker entry as no credential", () => {
    expect(decodeAuthEntry({}, context)).toBeUndefined();
    expect(decodeAuthEntry({ email: 'someone@example.com' }, context)).toBeUndefined();
  });

  it.each([
    ['not base64', { auth: 'not base64!' }],
    ['no colon', { auth: b64('justauser') }],
    ['empty username', { auth: b64(':s3cr3t-value') }],
    ['a non-string field', { auth: 42 }],
    ['not an object', 'dXNlcjpwYXNz'],
  ])('rejects %s with CONFIG_INVALID naming the file and key but not the value', (_, entry) => {
    const err = decodeError(entry);
    expect(isGantryError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain('/home/u/.docker/config.json');
    expect((err as Error).message).toContain('"ghcr.io"');
    expect((err as Error).message).not.toContain('justauser');
    expect((err as Error).message).not.toContain('s3cr3t');
  });
});

describe('encodeAuthEntry', () => {
  it('writes base64 auth and never plaintext username or password fields', () => {
    const entry = encodeAuthEntry({ username: 'robot', password: 'hunter2' });
    expect(entry).toEqual({ auth: b64('robot:hunter2') });
  });

  it('writes identity and registry tokens beside auth', () => {
    expect(encodeAuthEntry({ username: 'u', identityToken: 'refresh', registryToken: 'rt' })).toEqual({
      auth: b64('u:'),
      identitytoken: 'refresh',
      registrytoken: 'rt',
    });
  });

  it('keeps non-credential fields of the previous entry and drops its old secrets', () => {
    const previous = { auth: b64('old:old'), username: 'old', password: 'old', identitytoken: 'old', email: 'me@example.com', custom: { a: 1 } };
    expect(encodeAuthEntry({ username: 'new', password: 'new' }, previous)).toEqual({
      auth: b64('new:new'),
      email: 'me@example.com',
      custom: { a: 1 },
    });
  });

  it("writes docker's secretless marker for an empty credential", () => {
    expect(encodeAuthEntry({})).toEqual({});
  });

  it('refuses a password without a username, which docker could not read back', () => {
    expect(() => encodeAuthEntry({ password: 'p' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('round-trips any username without a colon and any password', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((u) => !u.includes(':')),
        fc.string().filter((p) => !p.startsWith('\0') && !p.endsWith('\0')),
        (username, password) => {
          const back = decodeAuthEntry(encodeAuthEntry({ username, password }), context);
          expect(back).toEqual({ username, password });
        },
      ),
    );
  });
});
