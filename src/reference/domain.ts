import { quote } from '../internal/quote.js';
import { parseIPv6 } from './ip-address.js';
import type { SyntaxProblem } from './syntax-problem.js';

const MAX_PORT = 65535;

/**
 * Check a registry host with optional port against docker's domain grammar
 * (distribution/reference regexp.go): dot-separated components of letters,
 * digits and inner hyphens (uppercase allowed), or a bracketed IPv6 address;
 * then an optional `:port` of digits.
 *
 * Two checks are stricter than docker's regexp, because the host would be
 * unusable anyway (WHATWG URL parsing, and so undici, rejects it): the port
 * must be at most 65535, and a bracketed IPv6 address must be well formed.
 *
 * @param offset where `host` starts in the whole input, for positions.
 */
export function findHostProblem(host: string, offset: number): SyntaxProblem | undefined {
  const portAt = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  if (host.startsWith('[')) {
    const problem = findIPv6Problem(host, offset);
    if (problem) return problem;
  } else {
    const problem = findDomainNameProblem(portAt < 0 ? host : host.slice(0, portAt), offset);
    if (problem) return problem;
  }
  if (portAt < 0 || portAt === host.length) return undefined;
  if (host[portAt] !== ':') return { message: "expected ':port' after the IPv6 address", position: offset + portAt };
  return findPortProblem(host.slice(portAt + 1), offset + portAt + 1);
}

function findDomainNameProblem(name: string, offset: number): SyntaxProblem | undefined {
  if (name.length === 0) return { message: 'registry host is empty', position: offset };
  let componentStart = 0;
  for (let i = 0; i <= name.length; i++) {
    const c = name.charCodeAt(i);
    if (i === name.length || c === 0x2e /* . */) {
      if (i === componentStart) return { message: 'registry host has an empty component', position: offset + i };
      if (name.charCodeAt(i - 1) === 0x2d /* - */) {
        return { message: "a registry host component must not end with '-'", position: offset + i - 1 };
      }
      componentStart = i + 1;
    } else if (c === 0x2d) {
      if (i === componentStart) return { message: "a registry host component must not start with '-'", position: offset + i };
    } else if (!isAlnum(c)) {
      return { message: `invalid character ${quote(name.charAt(i))} in registry host`, position: offset + i };
    }
  }
  return undefined;
}

function findIPv6Problem(host: string, offset: number): SyntaxProblem | undefined {
  const close = host.indexOf(']');
  if (close < 0) return { message: "IPv6 address is missing its closing ']'", position: offset + host.length };
  const address = host.slice(1, close);
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (!isHex(c) && c !== 0x3a /* : */) {
      // Zone identifiers (RFC 6874) and dotted IPv4 tails are excluded by docker's grammar.
      return { message: `invalid character ${quote(address.charAt(i))} in IPv6 address`, position: offset + 1 + i };
    }
  }
  if (parseIPv6(address) === undefined) return { message: `invalid IPv6 address ${quote(address)}`, position: offset + 1 };
  return undefined;
}

function findPortProblem(port: string, offset: number): SyntaxProblem | undefined {
  if (port.length === 0) return { message: 'port is empty', position: offset };
  for (let i = 0; i < port.length; i++) {
    const c = port.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return { message: `port must be a number, found ${quote(port.charAt(i))}`, position: offset + i };
  }
  if (Number(port) > MAX_PORT) return { message: `port ${port} is out of range (0-${MAX_PORT})`, position: offset };
  return undefined;
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
