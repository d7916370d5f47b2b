import { GantryError } from '../errors/index.js';
import { REDACTED } from '../internal/redact.js';
import { quote } from '../internal/quote.js';

/** Why a piece of a reference is invalid, and where. */
export interface SyntaxProblem {
  message: string;
  /** 0-based index in the whole input where it stops being valid. */
  position: number;
  hint?: string;
}

const REFERENCE_HINT = 'A reference looks like [REGISTRY/]REPOSITORY[:TAG][@DIGEST], e.g. alpine:3.20 or ghcr.io/org/app:1.0.';
const USERINFO_HINT = 'References and registry addresses carry no credentials: log in with `gantry login REGISTRY` instead.';
const SCHEME_HINT = 'Drop the scheme: a reference looks like HOST/REPOSITORY[:TAG][@DIGEST].';

/**
 * The `REFERENCE_INVALID` error for `input`. When the input looks like it
 * carries `user:password@`, that part is replaced in both the message and the
 * details, so a pasted URL with a password never reaches a log.
 */
export function referenceError(
  input: string,
  problem: SyntaxProblem,
  options: { cause?: unknown; userinfo?: { start: number; end: number } } = {},
): GantryError {
  const userinfo = options.userinfo ?? userinfoSpan(input);
  const shown = userinfo ? `${input.slice(0, userinfo.start)}${REDACTED}${input.slice(userinfo.end)}` : input;
  const hint = userinfo ? USERINFO_HINT : (problem.hint ?? (input.includes('://') ? SCHEME_HINT : REFERENCE_HINT));
  return new GantryError('REFERENCE_INVALID', `invalid reference ${quote(shown)}: ${problem.message}`, {
    hint,
    cause: options.cause,
    details: { input: shown, position: userinfo ? 0 : problem.position },
  });
}

/**
 * Where `user[:password]` sits in an input such as `https://u:p@host/x` or
 * `u:p@host/x`: text before an `@` that a `/` follows. No valid reference has
 * that shape (a digest never contains `/`), so only invalid input is touched.
 */
function userinfoSpan(input: string): { start: number; end: number } | undefined {
  const schemeEnd = input.indexOf('://');
  const start = schemeEnd >= 0 && !input.slice(0, schemeEnd).includes('/') ? schemeEnd + 3 : 0;
  const at = input.indexOf('@', start);
  if (at < 0) return undefined;
  const slash = input.indexOf('/', start);
  if (slash >= 0 && slash < at) return undefined;
  if (input.indexOf('/', at) < 0 && schemeEnd < 0) return undefined;
  return { start, end: at };
}
