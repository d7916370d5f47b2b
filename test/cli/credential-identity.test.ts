import { describe, expect, it } from 'vitest';
import { identityKey } from '../../src/cli/credential-identity.js';

describe('the identity remembered blob locations are kept under', () => {
  it('tells apart logins that share a username, as cloud registries give them (ECR: AWS)', () => {
    const a = identityKey('123.dkr.ecr.example', { username: 'AWS', password: 'token-of-role-a' });
    const b = identityKey('123.dkr.ecr.example', { username: 'AWS', password: 'token-of-role-b' });
    expect(a).not.toBe(b);
    expect(identityKey('acr.example', { username: '00000000-0000-0000-0000-000000000000', identityToken: 'one' })).not.toBe(
      identityKey('acr.example', { username: '00000000-0000-0000-0000-000000000000', identityToken: 'two' }),
    );
  });

  it('is stable for one credential, differs per registry, holds no secret, and is empty when anonymous', () => {
    const alice = { username: 'alice', password: 'secret-password' };
    expect(identityKey('reg.example', alice)).toBe(identityKey('reg.example', { ...alice }));
    expect(identityKey('reg.example', alice)).not.toBe(identityKey('other.example', alice));
    expect(identityKey('reg.example', alice)).toMatch(/^[0-9a-f]{16}$/);
    expect(identityKey('reg.example', undefined)).toBe('');
    expect(identityKey('reg.example', {})).toBe('');
  });
});
