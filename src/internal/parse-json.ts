/** What `parseJson` found: the value, or where the text stops being JSON. */
export type ParsedJson =
  | { ok: true; value: unknown }
  | {
      ok: false;
      value: undefined;
      /** `line 3, column 7` (1-based), or `the end of the text`: never any of the text itself. */
      where: string;
    };

/**
 * Parse JSON text (bytes are read as UTF-8) without throwing on bad syntax.
 * `value` is undefined exactly when the text is not JSON, so
 * `parseJson(text).value` is "the value or nothing". On failure, `where`
 * locates the first syntax error. V8's SyntaxError is dropped on purpose:
 * its message quotes the text around the error, and that text may be a
 * credential (config.json's `auth`, a helper's output), so it must reach
 * neither a message nor a `--debug` cause chain.
 */
export function parseJson(text: string | Uint8Array): ParsedJson {
  const source = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  try {
    return { ok: true, value: JSON.parse(source) };
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return { ok: false, value: undefined, where: describeOffset(source, jsonSyntaxErrorOffset(source) ?? source.length) };
  }
}

function describeOffset(text: string, offset: number): string {
  if (offset >= text.length) return 'the end of the text';
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

type Scan = { ok: true; end: number } | { ok: false; at: number };

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const SIMPLE_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const DIGIT = /^[0-9]$/;
const HEX = /^[0-9A-Fa-f]$/;
const LITERALS = ['true', 'false', 'null'];

/**
 * The offset of the first character where `text` breaks the JSON grammar
 * (RFC 8259), `text.length` when it ends too early, or undefined when it is
 * JSON. Iterative, so deep nesting cannot overflow the stack.
 */
export function jsonSyntaxErrorOffset(text: string): number | undefined {
  const closers: string[] = [];
  let i = 0;
  let expect: 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'next' = 'value';
  // Every pass consumes at least one character or returns, so the loop ends.
  for (;;) {
    while (i < text.length && WHITESPACE.has(text.charAt(i))) i++;
    const c = text.charAt(i);
    const closer = closers.at(-1);
    if (expect === 'next') {
      if (closer === undefined) return i < text.length ? i : undefined;
      if (c === ',') {
        expect = closer === '}' ? 'key' : 'value';
        i++;
      } else if (c === closer) {
        closers.pop();
        i++;
      } else {
        return i;
      }
      continue;
    }
    if (i >= text.length) return i;
    if ((expect === 'value-or-close' && c === ']') || (expect === 'key-or-close' && c === '}')) {
      closers.pop();
      expect = 'next';
      i++;
      continue;
    }
    if (expect === 'key' || expect === 'key-or-close') {
      if (c !== '"') return i;
      const key = scanString(text, i);
      if (!key.ok) return key.at;
      i = key.end;
      while (i < text.length && WHITESPACE.has(text.charAt(i))) i++;
      if (text.charAt(i) !== ':') return i;
      expect = 'value';
      i++;
      continue;
    }
    if (c === '{' || c === '[') {
      closers.push(c === '{' ? '}' : ']');
      expect = c === '{' ? 'key-or-close' : 'value-or-close';
      i++;
      continue;
    }
    const scalar = c === '"' ? scanString(text, i) : scanBare(text, i);
    if (!scalar.ok) return scalar.at;
    expect = 'next';
    i = scalar.end;
  }
}

function scanString(text: string, start: number): Scan {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === '"') return { ok: true, end: i + 1 };
    if (c < ' ') return { ok: false, at: i };
    if (c === '\\') {
      const e = text.charAt(i + 1);
      if (SIMPLE_ESCAPES.has(e)) {
        i += 2;
      } else if (e === 'u') {
        const digits = i + 2;
        for (i = digits; i < digits + 4; i++) {
          if (!HEX.test(text.charAt(i))) return { ok: false, at: Math.min(i, text.length) };
        }
      } else {
        return { ok: false, at: Math.min(i + 1, text.length) };
      }
    } else {
      i++;
    }
  }
  return { ok: false, at: text.length };
}

/** A number or `true`/`false`/`null`; a broken number fails where it breaks, as V8 reports it. */
function scanBare(text: string, start: number): Scan {
  const literal = LITERALS.find((word) => word.charAt(0) === text.charAt(start));
  if (literal) {
    for (let k = 1; k < literal.length; k++) {
      if (text.charAt(start + k) !== literal.charAt(k)) return { ok: false, at: Math.min(start + k, text.length) };
    }
    return { ok: true, end: start + literal.length };
  }
  let i = start;
  const digits = (): boolean => {
    const from = i;
    while (DIGIT.test(text.charAt(i))) i++;
    return i > from;
  };
  if (text.charAt(i) === '-') i++;
  if (text.charAt(i) === '0') i++;
  else if (!digits()) return { ok: false, at: i };
  if (text.charAt(i) === '.') {
    i++;
    if (!digits()) return { ok: false, at: i };
  }
  if (text.charAt(i) === 'e' || text.charAt(i) === 'E') {
    i++;
    if (text.charAt(i) === '+' || text.charAt(i) === '-') i++;
    if (!digits()) return { ok: false, at: i };
  }
  return { ok: true, end: i };
}
