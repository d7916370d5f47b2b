import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGantryError } from '../../../src/errors/index.js';
import { familiarReference, formatReference, parseReference, type Reference } from '../../../src/reference/index.js';

const component = fc.stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/, { maxLength: 24 }).filter((c) => c.length > 0);
const domainName = fc
  .stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+$/, { maxLength: 40 })
  .filter((d) => !['docker.io', 'index.docker.io'].includes(d));
const ipv6 = fc.ipV6().filter((a) => !a.includes('.')).map((a) => `[${a}]`);
const host = fc.oneof(domainName, ipv6, fc.constant('localhost'), fc.stringMatching(/^[A-Z][A-Z0-9]{0,8}$/));
const port = fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined });
const tag = fc.stringMatching(/^\w[\w.-]{0,127}$/);
const digest = fc.oneof(
  fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`),
  fc.stringMatching(/^[a-f0-9]{128}$/).map((h) => `sha512:${h}`),
  fc
    .stringMatching(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, { maxLength: 80 })
    .filter((d) => !/^(sha256|sha512|blake3):/.test(d)),
);

/** Parts of a valid reference, generated independently of the parser. */
const referenceParts = fc
  .record({
    registry: fc.oneof(
      fc.record({ host, port }).map(({ host: h, port: p }) => (p === undefined ? h : `${h}:${p}`)),
      fc.constant('docker.io'),
    ),
    components: fc.array(component, { minLength: 1, maxLength: 6 }),
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(digest, { nil: undefined }),
  })
  .map(({ registry, components, tag: t, digest: d }): Reference => {
    // On Docker Hub a single component lives under library/.
    const path = registry === 'docker.io' && components.length === 1 ? ['library', ...components] : components;
    return { registry, repository: path.join('/'), ...(t === undefined ? {} : { tag: t }), ...(d === undefined ? {} : { digest: d }) };
  })
  .filter((r) => r.repository.length <= 255);

const referenceAlphabet = fc.constantFrom(...'aAbz09_.-/:@[]%$ \n'.split(''), 'sha256:', 'docker.io/', 'library/', 'localhost', 'é', '\u{1f433}');
const referenceLike = fc.string({ unit: referenceAlphabet, maxLength: 40 });
const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 60 }), referenceLike);

describe('parseReference properties', () => {
  it('throws nothing but REFERENCE_INVALID, with a position inside the input, for any string', () => {
    fc.assert(
      fc.property(anyString, (input) => {
        try {
          parseReference(input);
        } catch (err) {
          if (!isGantryError(err, 'REFERENCE_INVALID')) throw err;
          const position = err.details?.['position'];
          expect(typeof position).toBe('number');
          expect(position).toBeGreaterThanOrEqual(0);
          expect(position).toBeLessThanOrEqual(input.length);
          expect(err.message).not.toMatch(/[\r\n]/);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('parses the canonical form of generated references back to the same parts', () => {
    fc.assert(
      fc.property(referenceParts, (parts) => {
        const canonical = `${parts.registry}/${parts.repository}${parts.tag === undefined ? '' : `:${parts.tag}`}${parts.digest === undefined ? '' : `@${parts.digest}`}`;
        const parsed = parseReference(canonical);
        expect(parsed).toEqual(parts);
        expect(formatReference(parsed)).toBe(canonical);
        expect(parseReference(familiarReference(parsed))).toEqual(parsed);
      }),
      { numRuns: 1000 },
    );
  });

  it('normalizes idempotently: parsing a formatted or familiar reference changes nothing', () => {
    fc.assert(
      fc.property(fc.oneof(referenceLike, referenceParts.map(familiarReference)), (input) => {
        let parsed: Reference;
        try {
          parsed = parseReference(input);
        } catch (err) {
          if (isGantryError(err, 'REFERENCE_INVALID')) return;
          throw err;
        }
        const canonical = formatReference(parsed);
        expect(parseReference(canonical)).toEqual(parsed);
        expect(formatReference(parseReference(canonical))).toBe(canonical);
        expect(parseReference(familiarReference(parsed))).toEqual(parsed);
      }),
      { numRuns: 2000 },
    );
  });

  it('reports a character that breaks the repository path at its own index', () => {
    const breaking = fc.constantFrom('$', '^', ' ', '~', '!', 'é', '\n');
    fc.assert(
      fc.property(referenceParts, breaking, fc.nat(), (parts, bad, at) => {
        const head = `${parts.registry}/`;
        const index = head.length + (at % (parts.repository.length + 1));
        const canonical = `${head}${parts.repository}`;
        const input = `${canonical.slice(0, index)}${bad}${canonical.slice(index)}`;
        let caught: unknown;
        try {
          parseReference(input);
        } catch (err) {
          caught = err;
        }
        expect(isGantryError(caught, 'REFERENCE_INVALID')).toBe(true);
        expect((caught as { details?: Record<string, unknown> }).details?.['position']).toBe(index);
      }),
      { numRuns: 1000 },
    );
  });
});
