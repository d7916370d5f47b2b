/**
 * Parse an IPv6 address written as hex groups, with at most one `::`
 * (RFC 4291 section 2.2 forms 1 and 2; the dotted IPv4 tail of form 3 is left
 * out, as docker's reference grammar leaves it out). Returns the eight 16-bit
 * groups, or undefined when the text is not such an address.
 */
export function parseIPv6(text: string): number[] | undefined {
  const gap = text.indexOf('::');
  if (gap < 0) {
    const groups = parseGroups(text);
    return groups?.length === 8 ? groups : undefined;
  }
  if (text.indexOf('::', gap + 1) >= 0) return undefined;
  const head = parseGroups(text.slice(0, gap));
  const tail = parseGroups(text.slice(gap + 2));
  if (!head || !tail || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** True for 127.0.0.0/8 written as a dotted quad of decimal octets. */
export function isIPv4Loopback(text: string): boolean {
  const octets = text.split('.');
  if (octets.length !== 4) return false;
  if (!octets.every((o) => /^[0-9]{1,3}$/.test(o) && Number(o) <= 255)) return false;
  return octets[0] === '127';
}

/** True for ::1, and for 127.0.0.0/8 mapped into IPv6 (::ffff:7fxx:xxxx). */
export function isIPv6Loopback(text: string): boolean {
  const groups = parseIPv6(text);
  if (!groups) return false;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  if (g0 !== 0 || g1 !== 0 || g2 !== 0 || g3 !== 0 || g4 !== 0) return false;
  if (g5 === 0 && g6 === 0) return g7 === 1;
  return g5 === 0xffff && g6 >> 8 === 127;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  for (const group of text.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    groups.push(Number.parseInt(group, 16));
  }
  return groups;
}
