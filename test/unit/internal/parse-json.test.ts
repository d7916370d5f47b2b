import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSyntaxErrorOffset, parseJson } from '../../../src/internal/parse-json.js';

describe('parseJson', () => {
  it('returns the value of JSON text, from a string or UTF-8 bytes', () => {
    expect(parseJson('{"a":[1,"é"]}')).toEqual({ ok: true, value: { a: [1, 'é'] } });
    expect(parseJson(new TextEncoder().encode(' null '))).toEqual({ ok: true, value: null });
  });

  it.each([
    ['a bare word', '{"auth":YWxpY2U6c2VjcmV0}', 'line 1, column 9'],
    ['a trailing comma', '[1,]', 'line 1, column 4'],
    ['a leading zero', '{"a":01}', 'line 1, column 7'],
    ['a bad escape', '"a\\qb"', 'line 1, column 4'],
    ['a bad unicode escape', '"a\\u12x4"', 'line 1, column 7'],
    ['a raw control character in a string', '"a\tb"', 'line 1, column 3'],
    ['text after the value', '{} trailing', 'line 1, column 4'],
    ['a missing colon on a later line', '{\n  "a"\n  1}', 'line 3, column 3'],
    ['an unclosed object', '{"a": 1', 'the end of the text'],
    ['an unterminated string', '{"a": "abc', 'the end of the text'],
    ['nothing at all', '   ', 'the end of the text'],
  ])('locates %s without quoting the text', (_, text, where) => {
    const parsed = parseJson(text);
    expect(parsed).toEqual({ ok: false, value: undefined, where });
  });

  it('never quotes the text, whatever it is', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (text) => {
        const parsed = parseJson(`{"auth":${text}`);
        expect(parsed.ok).toBe(false);
        if (!parsed.ok) expect(parsed.where).toMatch(/^(line \d+, column \d+|the end of the text)$/);
      }),
    );
  });

  it('copes with nesting too deep for a recursive parser', () => {
    const deep = `${'['.repeat(200_000)}x`;
    expect(jsonSyntaxErrorOffset(deep)).toBe(200_000);
  });
});

describe('jsonSyntaxErrorOffset agrees with JSON.parse', () => {
  // Strings built from JSON's own punctuation hit the grammar's corners far more often than arbitrary text.
  const jsonish = fc.string({ unit: fc.constantFrom(...'{}[],:"\\ \n0123456789.-+eEtrufalsn\u0001u'.split('')), maxLength: 24 });
  const mutatedJson = fc
    .tuple(fc.json(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', ':', ' ', '0', '\\'))
    .map(([text, at, insert]) => {
      const cut = at % (text.length + 1);
      return text.slice(0, cut) + insert + text.slice(cut);
    });

  it('finds no error in exactly the texts JSON.parse accepts', () => {
    fc.assert(
      fc.property(fc.oneof(jsonish, mutatedJson, fc.json()), (text) => {
        const offset = jsonSyntaxErrorOffset(text);
        if (parseJson(text).ok) {
          expect(offset).toBeUndefined();
        } else {
          expect(offset).toBeGreaterThanOrEqual(0);
          expect(offset).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('points where V8 does when V8 gives a position', () => {
    fc.assert(
      fc.property(fc.oneof(jsonish, mutatedJson), (text) => {
        let position: number | undefined;
        try {
          JSON.parse(text);
        } catch (err) {
          position = Number(/at position (\d+)/.exec((err as Error).message)?.[1] ?? Number.NaN);
        }
        fc.pre(position !== undefined && !Number.isNaN(position));
        expect(jsonSyntaxErrorOffset(text)).toBe(position);
      }),
      { numRuns: 3000 },
    );
  });
});
