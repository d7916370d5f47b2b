import { quote } from '../internal/quote.js';
import type { SyntaxProblem } from './syntax-problem.js';

/** Docker caps tags at 128 characters (distribution/reference regexp.go). */
export const MAX_TAG_LENGTH = 128;

/**
 * Check a tag against docker's grammar `[\w][\w.-]{0,127}`: a word character
 * first, then up to 127 word characters, dots and dashes. Case is kept.
 *
 * @param offset where `tag` starts in the whole input, for positions.
 */
export function findTagProblem(tag: string, offset: number): SyntaxProblem | undefined {
  if (tag.length === 0) return { message: "tag is empty (nothing after ':')", position: offset };
  for (let i = 0; i < tag.length; i++) {
    const c = tag.charCodeAt(i);
    if (isWordChar(c)) continue;
    if (i === 0 && (c === 0x2e || c === 0x2d)) {
      return { message: `a tag must start with a letter, digit or '_', not ${quote(tag.charAt(i))}`, position: offset };
    }
    if (i > 0 && (c === 0x2e || c === 0x2d)) continue;
    return { message: `invalid character ${quote(tag.charAt(i))} in tag`, position: offset + i };
  }
  if (tag.length > MAX_TAG_LENGTH) {
    return { message: `tag must not be more than ${MAX_TAG_LENGTH} characters (it has ${tag.length})`, position: offset + MAX_TAG_LENGTH };
  }
  return undefined;
}

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}
