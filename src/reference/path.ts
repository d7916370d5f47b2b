import { quote } from '../internal/quote.js';
import type { SyntaxProblem } from './syntax-problem.js';

const LOWERCASE_HINT = 'Repository names are lowercase; only the registry host and the tag may contain uppercase letters.';

/**
 * Check a repository path against docker's grammar (distribution/reference
 * regexp.go): `/`-separated components, each lowercase letters and digits
 * joined by single separators, where a separator is one `.`, one or two `_`,
 * or any run of `-`.
 *
 * @param offset where `path` starts in the whole input, for positions.
 */
export function findPathProblem(path: string, offset: number): SyntaxProblem | undefined {
  let start = 0;
  for (;;) {
    const slash = path.indexOf('/', start);
    const end = slash < 0 ? path.length : slash;
    const problem = findComponentProblem(path.slice(start, end), offset + start);
    if (problem) return problem;
    if (slash < 0) return undefined;
    start = slash + 1;
  }
}

function findComponentProblem(component: string, offset: number): SyntaxProblem | undefined {
  if (component.length === 0) return { message: 'repository name has an empty path component', position: offset };
  let i = 0;
  while (i < component.length) {
    const runStart = i;
    while (i < component.length && isLowerAlnum(component.charCodeAt(i))) i++;
    if (i === runStart) return unexpected(component, i, offset, runStart === 0 ? 'start' : 'after-separator');
    if (i === component.length) return undefined;
    const separatorAt = i;
    const c = component.charCodeAt(i);
    if (c === 0x2e /* . */) {
      i++;
    } else if (c === 0x5f /* _ */) {
      i += component.charCodeAt(i + 1) === 0x5f ? 2 : 1;
    } else if (c === 0x2d /* - */) {
      while (component.charCodeAt(i) === 0x2d) i++;
    } else {
      return unexpected(component, i, offset, 'inside');
    }
    if (i === component.length) {
      return { message: 'a repository path component must not end with a separator', position: offset + separatorAt };
    }
  }
  return undefined;
}

function unexpected(component: string, i: number, offset: number, where: 'start' | 'after-separator' | 'inside'): SyntaxProblem {
  const c = component.charCodeAt(i);
  const position = offset + i;
  if (c >= 0x41 && c <= 0x5a) return { message: 'repository name must be lowercase', position, hint: LOWERCASE_HINT };
  const shown = quote(component.charAt(i));
  if (isSeparator(c) && where === 'start') {
    return { message: `a repository path component must start with a lowercase letter or digit, not ${shown}`, position };
  }
  if (isSeparator(c) && where === 'after-separator') {
    return { message: `unexpected ${shown} after a separator in repository name`, position };
  }
  return { message: `invalid character ${shown} in repository name`, position };
}

function isLowerAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
}

function isSeparator(c: number): boolean {
  return c === 0x2e || c === 0x5f || c === 0x2d;
}
