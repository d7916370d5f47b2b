import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatScope, mergeScopes, normalizeActions, parseScope, parseScopes, repositoryScope, scopeKey } from '../../../src/auth/scope.js';
import type { Scope } from '../../../src/auth/types.js';

describe('formatScope', () => {
  it.each([
    [{ type: 'repository', name: 'library/alpine', actions: ['pull'] }, 'repository:library/alpine:pull'],
    [{ type: 'repository', name: 'library/alpine', actions: ['push', 'pull'] }, 'repository:library/alpine:pull,push'],
    [{ type: 'repository', name: 'a/b', actions: ['delete', '*', 'push', 'pull', 'pull'] }, 'repository:a/b:pull,push,*,delete'],
    [{ type: 'registry', name: 'catalog', actions: ['*'] }, 'registry:catalog:*'],
    [{ type: 'repository(plugin)', name: 'vieux/sshfs', actions: ['pull'] }, 'repository(plugin):vieux/sshfs:pull'],
  ])('%j → %s', (scope, expected) => {
    expect(formatScope(scope)).toBe(expected);
  });
});

describe('parseScope', () => {
  it.each([
    ['repository:library/alpine:pull', { type: 'repository', name: 'library/alpine', actions: ['pull'] }],
    ['repository:library/alpine:push,pull', { type: 'repository', name: 'library/alpine', actions: ['pull', 'push'] }],
    ['registry:catalog:*', { type: 'registry', name: 'catalog', actions: ['*'] }],
    ['repository:localhost:5000/app:pull', { type: 'repository', name: 'localhost:5000/app', actions: ['pull'] }],
    ['repository(plugin):vieux/sshfs:pull', { type: 'repository(plugin)', name: 'vieux/sshfs', actions: ['pull'] }],
    ['repository:a:pull,,push,pull', { type: 'repository', name: 'a', actions: ['pull', 'push'] }],
  ])('%s', (text, expected) => {
    expect(parseScope(text)).toEqual(expected);
  });

  it.each(['', 'repository', 'repository:alpine', ':alpine:pull', 'repository::pull', 'repository:alpine:', 'repository:alpine:,', 'repository:a:pull repository:b:pull'])(
    'returns undefined for %j',
    (text) => {
      expect(parseScope(text)).toBeUndefined();
    },
  );

  it('round-trips with formatScope', () => {
    for (const text of ['repository:library/alpine:pull,push', 'registry:catalog:*', 'repository:localhost:5000/app:pull']) {
      const scope = parseScope(text);
      expect(scope && formatScope(scope)).toBe(text);
    }
  });
});

describe('parseScopes', () => {
  it('reads a space-separated list and skips what does not parse', () => {
    expect(parseScopes(' repository:a/b:pull  junk repository:c/d:push,pull ')).toEqual([
      { type: 'repository', name: 'a/b', actions: ['pull'] },
      { type: 'repository', name: 'c/d', actions: ['pull', 'push'] },
    ]);
    expect(parseScopes('')).toEqual([]);
  });
});

describe('mergeScopes', () => {
  it('unions the actions of scopes naming the same resource, in canonical order', () => {
    expect(
      mergeScopes([
        { type: 'repository', name: 'library/alpine', actions: ['push'] },
        { type: 'repository', name: 'org/app', actions: ['pull'] },
        { type: 'repository', name: 'library/alpine', actions: ['pull', 'delete'] },
      ]),
    ).toEqual([
      { type: 'repository', name: 'library/alpine', actions: ['pull', 'push', 'delete'] },
      { type: 'repository', name: 'org/app', actions: ['pull'] },
    ]);
  });

  it('keeps different types apart even for the same name', () => {
    expect(
      mergeScopes([
        { type: 'repository', name: 'x', actions: ['pull'] },
        { type: 'repository(plugin)', name: 'x', actions: ['pull'] },
      ]),
    ).toHaveLength(2);
  });

  it('does not modify its input', () => {
    const input: Scope[] = [{ type: 'repository', name: 'a', actions: ['push', 'pull'] }];
    mergeScopes([...input, { type: 'repository', name: 'a', actions: ['delete'] }]);
    expect(input).toEqual([{ type: 'repository', name: 'a', actions: ['push', 'pull'] }]);
  });
});

describe('repositoryScope', () => {
  it('builds a repository scope with canonical actions', () => {
    expect(repositoryScope('library/alpine', ['push', 'pull', 'push'])).toEqual({ type: 'repository', name: 'library/alpine', actions: ['pull', 'push'] });
    expect(formatScope(repositoryScope('library/alpine', ['pull']))).toBe('repository:library/alpine:pull');
  });
});

describe('normalizeActions', () => {
  it('puts pull before push before the rest, dropping duplicates and empties', () => {
    expect(normalizeActions(['metadata-read', 'push', '', '*', 'delete', 'pull', 'push'])).toEqual(['pull', 'push', '*', 'delete', 'metadata-read']);
  });
});

describe('scopeKey', () => {
  it('is the merged, sorted, formatted scopes', () => {
    expect(
      scopeKey([
        { type: 'repository', name: 'z/app', actions: ['pull'] },
        { type: 'repository', name: 'library/alpine', actions: ['push'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
        { type: 'repository', name: 'library/alpine', actions: ['pull'] },
      ]),
    ).toBe('registry:catalog:* repository:library/alpine:pull,push repository:z/app:pull');
  });

  it('is empty for no scopes', () => {
    expect(scopeKey([])).toBe('');
  });

  it('differs when the access asked for differs', () => {
    expect(scopeKey([repositoryScope('a', ['pull'])])).not.toBe(scopeKey([repositoryScope('a', ['pull', 'push'])]));
    expect(scopeKey([repositoryScope('a', ['pull'])])).not.toBe(scopeKey([repositoryScope('b', ['pull'])]));
  });

  it('does not depend on order, duplicates or action order', () => {
    const name = fc.constantFrom('library/alpine', 'org/app', 'localhost:5000/x', 'catalog');
    const scope = fc.record({
      type: fc.constantFrom('repository', 'registry'),
      name,
      actions: fc.array(fc.constantFrom('pull', 'push', 'delete', '*'), { minLength: 1, maxLength: 4 }),
    });
    const scopesAndReordering = fc
      .array(scope, { maxLength: 8 })
      .chain((scopes) => fc.tuple(fc.constant(scopes), fc.shuffledSubarray(scopes, { minLength: scopes.length, maxLength: scopes.length })));
    fc.assert(
      fc.property(scopesAndReordering, ([scopes, reordered]) => {
        const shuffledActions = reordered.map((s) => ({ ...s, actions: [...s.actions].reverse() }));
        expect(scopeKey(shuffledActions)).toBe(scopeKey(scopes));
        expect(scopeKey([...scopes, ...scopes])).toBe(scopeKey(scopes));
      }),
    );
  });
});
