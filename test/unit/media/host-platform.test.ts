import { describe, expect, it } from 'vitest';
import { hostPlatform, type HostFacts } from '../../../src/media/host-platform.js';
import { formatPlatform, parsePlatform } from '../../../src/media/platform.js';

function host(platform: string, arch: string, extra: Partial<HostFacts> = {}): string {
  return formatPlatform(hostPlatform({ platform, arch, endianness: 'LE', ...extra }));
}

describe('hostPlatform', () => {
  it.each([
    ['linux', 'x64', 'linux/amd64'],
    ['linux', 'arm64', 'linux/arm64/v8'],
    ['linux', 'ia32', 'linux/386'],
    ['linux', 's390x', 'linux/s390x'],
    ['linux', 'riscv64', 'linux/riscv64'],
    ['linux', 'loong64', 'linux/loong64'],
    ['linux', 'mipsel', 'linux/mipsle'],
    ['win32', 'x64', 'windows/amd64'],
    ['win32', 'arm64', 'windows/arm64/v8'],
    ['freebsd', 'x64', 'freebsd/amd64'],
  ])('%s %s → %s', (platform, arch, expected) => {
    expect(host(platform, arch)).toBe(expected);
  });

  it('maps macOS to linux, since registries hold no darwin images', () => {
    expect(host('darwin', 'arm64')).toBe('linux/arm64/v8');
    expect(host('darwin', 'x64')).toBe('linux/amd64');
  });

  it('reads the ARM version node was built for, defaulting to v7', () => {
    expect(host('linux', 'arm', { armVersion: '6' })).toBe('linux/arm/v6');
    expect(host('linux', 'arm')).toBe('linux/arm/v7');
  });

  it('tells little-endian ppc64 from big-endian', () => {
    expect(host('linux', 'ppc64', { endianness: 'LE' })).toBe('linux/ppc64le');
    expect(host('linux', 'ppc64', { endianness: 'BE' })).toBe('linux/ppc64');
  });

  it('describes this machine as a platform parsePlatform accepts', () => {
    const here = hostPlatform();
    expect(parsePlatform(formatPlatform(here))).toEqual(here);
  });
});
