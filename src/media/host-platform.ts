import { endianness } from 'node:os';
import { normalizePlatform } from './platform.js';
import type { Platform } from './types.js';

/** The facts `hostPlatform` reads; injectable so every mapping can be tested on any machine. */
export interface HostFacts {
  /** `process.platform`. */
  platform: string;
  /** `process.arch`. */
  arch: string;
  /** `os.endianness()`: tells ppc64le from big-endian ppc64, which node names alike. */
  endianness: 'BE' | 'LE';
  /** The ARM architecture version node was built for (`process.config.variables.arm_version`). */
  armVersion?: string;
}

function currentFacts(): HostFacts {
  const variables = process.config.variables as unknown as Record<string, unknown>;
  const armVersion = variables.arm_version;
  return {
    platform: process.platform,
    arch: process.arch,
    endianness: endianness(),
    ...(typeof armVersion === 'string' || typeof armVersion === 'number' ? { armVersion: String(armVersion) } : {}),
  };
}

// Registries hold images for Linux and Windows. On macOS the runtimes people
// use (Docker Desktop, podman machine, colima) run Linux images in a VM, and
// Android runs a Linux kernel: asking for darwin or android would never match.
const OS: Record<string, string> = {
  linux: 'linux',
  darwin: 'linux',
  android: 'linux',
  win32: 'windows',
  cygwin: 'windows',
  sunos: 'solaris',
};

/**
 * The platform of the machine gantry runs on, in OCI terms and normalized:
 * `linux/amd64`, `linux/arm64/v8`, `linux/arm/v7`, `windows/amd64`. macOS
 * maps to linux (see above). Never throws: an unknown node platform or
 * architecture passes through as named.
 */
export function hostPlatform(facts: HostFacts = currentFacts()): Platform {
  const os = OS[facts.platform] ?? facts.platform;
  switch (facts.arch) {
    case 'x64':
      return { os, architecture: 'amd64' };
    case 'ia32':
      return { os, architecture: '386' };
    case 'arm64':
      return { os, architecture: 'arm64', variant: 'v8' };
    case 'arm':
      return normalizePlatform({ os, architecture: 'arm', variant: facts.armVersion ?? '7' });
    case 'ppc64':
      return { os, architecture: facts.endianness === 'LE' ? 'ppc64le' : 'ppc64' };
    case 'mipsel':
      return { os, architecture: 'mipsle' };
    default:
      return normalizePlatform({ os, architecture: facts.arch });
  }
}
