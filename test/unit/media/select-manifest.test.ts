import { describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import { OCI_INDEX, OCI_MANIFEST } from '../../../src/media/media-types.js';
import { availablePlatforms, isAttestationManifest, selectManifest } from '../../../src/media/select-manifest.js';
import type { Descriptor, ImageIndex, Platform } from '../../../src/media/types.js';

let counter = 0;

function entry(platform: string | undefined, annotations?: Record<string, string>): Descriptor {
  counter += 1;
  const d: Descriptor = { mediaType: OCI_MANIFEST, digest: `sha256:${counter.toString(16).padStart(64, '0')}`, size: 500 };
  if (platform !== undefined) {
    const [os = '', architecture = '', variant] = platform.split('/');
    d.platform = variant === undefined ? { os, architecture } : { os, architecture, variant };
  }
  if (annotations) d.annotations = annotations;
  return d;
}

function attestationFor(target: Descriptor): Descriptor {
  return entry('unknown/unknown', { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': target.digest });
}

function indexOf(...manifests: Descriptor[]): ImageIndex {
  return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
}

function want(spec: string): Platform {
  const [os = '', architecture = '', variant] = spec.split('/');
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

function notFound(fn: () => unknown): GantryError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GantryError) return err;
    throw err;
  }
  throw new Error('expected PLATFORM_NOT_FOUND, nothing was thrown');
}

// The shape of docker.io/library/alpine's index: seven platforms, each with a BuildKit attestation.
const amd64 = entry('linux/amd64');
const armv6 = entry('linux/arm/v6');
const armv7 = entry('linux/arm/v7');
const arm64 = entry('linux/arm64/v8');
const i386 = entry('linux/386');
const ppc = entry('linux/ppc64le');
const s390x = entry('linux/s390x');
const alpine = indexOf(amd64, armv6, armv7, arm64, i386, ppc, s390x, ...[amd64, armv6, armv7, arm64, i386, ppc, s390x].map(attestationFor));

describe('selectManifest', () => {
  it.each([
    ['linux/amd64', amd64],
    ['linux/x86_64', amd64],
    ['linux/arm64', arm64],
    ['linux/aarch64', arm64],
    ['linux/arm64/v8', arm64],
    ['linux/arm/v7', armv7],
    ['linux/arm', armv7],
    ['linux/armel', armv6],
    ['linux/386', i386],
    ['linux/s390x', s390x],
  ])('picks the exact entry for %s from an alpine-like index', (spec, expected) => {
    expect(selectManifest(alpine, want(spec))).toBe(expected);
  });

  it('prefers an exact variant over a compatible one, wherever it sits in the index', () => {
    const v6 = entry('linux/arm/v6');
    const v7 = entry('linux/arm/v7');
    expect(selectManifest(indexOf(v6, v7), want('linux/arm/v7'))).toBe(v7);
    expect(selectManifest(indexOf(v7, v6), want('linux/arm/v7'))).toBe(v7);
  });

  it('falls back to the closest compatible variant', () => {
    const v5 = entry('linux/arm/v5');
    const v6 = entry('linux/arm/v6');
    expect(selectManifest(indexOf(v5, v6), want('linux/arm/v7'))).toBe(v6);
  });

  it('matches an arm64 entry listed without a variant', () => {
    const bare = entry('linux/arm64');
    expect(selectManifest(indexOf(amd64, bare), want('linux/arm64/v8'))).toBe(bare);
  });

  it('takes the first of equally good entries', () => {
    const first = entry('linux/amd64');
    const second = entry('linux/amd64');
    expect(selectManifest(indexOf(first, second), want('linux/amd64'))).toBe(first);
  });

  it('never selects an attestation, even when asked for unknown/unknown', () => {
    const err = notFound(() => selectManifest(indexOf(amd64, attestationFor(amd64)), want('unknown/unknown')));
    expect(err.code).toBe('PLATFORM_NOT_FOUND');
  });

  it('skips entries without a platform', () => {
    const bare = entry(undefined);
    expect(selectManifest(indexOf(bare, amd64), want('linux/amd64'))).toBe(amd64);
  });

  it('does not cross architectures (amd64 never gets 386, arm64 never gets arm)', () => {
    expect(notFound(() => selectManifest(indexOf(i386), want('linux/amd64'))).code).toBe('PLATFORM_NOT_FOUND');
    expect(notFound(() => selectManifest(indexOf(armv7), want('linux/arm64'))).code).toBe('PLATFORM_NOT_FOUND');
  });

  it('explains a miss with the platforms the index offers, attestations left out', () => {
    const err = notFound(() => selectManifest(alpine, want('linux/riscv64')));
    expect(err.code).toBe('PLATFORM_NOT_FOUND');
    expect(err.message).toContain('linux/riscv64');
    expect(err.hint).toBe('The index offers: linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, linux/386, linux/ppc64le, linux/s390x.');
    expect(err.hint).not.toContain('unknown');
    expect(err.details).toMatchObject({ platform: 'linux/riscv64' });
  });

  it('says so when the index offers no platform at all', () => {
    const err = notFound(() => selectManifest(indexOf(), want('linux/amd64')));
    expect(err.hint).toBe('The index lists no platforms.');
  });
});

describe('isAttestationManifest', () => {
  it('recognizes BuildKit attestations by annotation or by the unknown/unknown platform', () => {
    expect(isAttestationManifest(attestationFor(amd64))).toBe(true);
    expect(isAttestationManifest(entry('unknown/unknown'))).toBe(true);
    expect(isAttestationManifest(entry(undefined, { 'vnd.docker.reference.type': 'attestation-manifest' }))).toBe(true);
    expect(isAttestationManifest(amd64)).toBe(false);
    expect(isAttestationManifest(entry('linux/unknown'))).toBe(false);
  });
});

describe('availablePlatforms', () => {
  it('lists each platform once, in index order', () => {
    expect(availablePlatforms(indexOf(amd64, entry('linux/amd64'), arm64, attestationFor(arm64)))).toEqual(['linux/amd64', 'linux/arm64/v8']);
  });
});
