import type { Challenge } from './types.js';

/*
 * WWW-Authenticate parsing (RFC 7235 section 4.1, RFC 9110 section 11.6.1):
 *
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 *
 * One header value may hold several challenges separated by commas, and the
 * same commas separate auth-params, so after a comma the parser looks ahead:
 * `token =` continues the current challenge, anything else starts a new one.
 * Registries are not all strict: unquoted values may hold `/`, `:`, `?` and
 * `=` (a realm URL), so an unquoted value runs to the next comma or space.
 */

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_RE = /^[A-Za-z0-9\-._~+/]+=*/;

/**
 * Parses one or more WWW-Authenticate header values into challenges, in
 * order. Scheme and parameter names are lowercased; values are kept as sent,
 * with quoted-string escapes (`\"`) resolved. When a parameter repeats, the
 * first wins. Never throws: garbage is skipped and whatever could be parsed
 * is returned, possibly nothing.
 */
export function parseWwwAuthenticate(header: string | readonly string[]): Challenge[] {
  const values: readonly unknown[] = typeof header === 'string' ? [header] : Array.isArray(header) ? header : [];
  const out: Challenge[] = [];
  for (const value of values) {
    if (typeof value === 'string') new ChallengeReader(value).readAll(out);
  }
  return out;
}

class ChallengeReader {
  private pos = 0;

  constructor(private readonly s: string) {}

  readAll(out: Challenge[]): void {
    while (this.pos < this.s.length) {
      const start = this.pos;
      this.skip(/[\s,]/);
      const scheme = this.token();
      if (scheme === '') {
        this.skipPast(',');
      } else {
        out.push(this.readChallenge(scheme.toLowerCase()));
      }
      // Each pass consumes input; this guard keeps that true whatever changes above.
      if (this.pos === start) this.pos++;
    }
  }

  private readChallenge(scheme: string): Challenge {
    const params: Record<string, string> = {};
    this.skip(/[ \t]/);
    const token68 = this.token68();
    if (token68 !== undefined) {
      return { scheme, params, token68 };
    }
    while (this.pos < this.s.length) {
      const mark = this.pos;
      this.skip(/[\s,]/);
      const name = this.token();
      this.skip(/[ \t]/);
      if (name === '' || this.s[this.pos] !== '=') {
        // Not `name =`: the start of the next challenge (or garbage for readAll to skip).
        this.pos = mark;
        break;
      }
      this.pos++;
      this.skip(/[ \t]/);
      const value = this.s[this.pos] === '"' ? this.quoted() : this.unquoted();
      const key = name.toLowerCase();
      if (!(key in params)) params[key] = value;
      // No comma needed before the next param: some servers separate params
      // with spaces only (`realm="a" service="b"`); the lookahead above still
      // tells a param from the next challenge.
    }
    return { scheme, params };
  }

  // A token68 only when it is the whole rest of this challenge. `realm=,service="s"`
  // would also read as the token68 `realm=`, but a challenge cannot continue with
  // params after a token68, so a following `name=` shows it was an empty param.
  private token68(): string | undefined {
    const m = TOKEN68_RE.exec(this.s.slice(this.pos));
    if (m === null) return undefined;
    const rest = this.s.slice(this.pos + m[0].length);
    if (!/^[ \t]*(?:,|$)/.test(rest)) return undefined;
    if (m[0].endsWith('=') && /^[\s,]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*=/.test(rest)) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  private token(): string {
    const start = this.pos;
    while (this.pos < this.s.length && TCHAR.test(this.s[this.pos] ?? '')) this.pos++;
    return this.s.slice(start, this.pos);
  }

  private quoted(): string {
    this.pos++; // opening quote
    let value = '';
    while (this.pos < this.s.length) {
      const c = this.s[this.pos++];
      if (c === '"') return value;
      if (c === '\\' && this.pos < this.s.length) value += this.s[this.pos++];
      else value += c;
    }
    return value; // unterminated: keep what was there
  }

  private unquoted(): string {
    const start = this.pos;
    while (this.pos < this.s.length && !/[\s,]/.test(this.s[this.pos] ?? '')) this.pos++;
    return this.s.slice(start, this.pos);
  }

  private skip(re: RegExp): void {
    while (this.pos < this.s.length && re.test(this.s[this.pos] ?? '')) this.pos++;
  }

  private skipPast(c: string): void {
    const i = this.s.indexOf(c, this.pos);
    this.pos = i === -1 ? this.s.length : i + 1;
  }
}
