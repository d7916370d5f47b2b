import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../../src/digest/index.js';
import type { Manifest } from '../../../../src/media/types.js';
import type { Reference } from '../../../../src/reference/types.js';
import type { RegistryClient } from '../../../../src/registry/types.js';
import { createRegistrySource } from '../../../../src/transports/registry/index.js';

// How a registry source finds the root of one reference: most registries
// answer a GET by tag with everything a copy needs, in one round trip; on
// Docker Hub a GET costs pull allowance and a HEAD does not.

const mediaType = 'application/vnd.oci.image.manifest.v1+json';
const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 2 }, layers: [] }));
const digest = digestOf(bytes);

function fakeClient() {
  const calls: string[] = [];
  const manifest = (ref: Reference): Manifest => {
    calls.push(`GET ${ref.tag ?? ref.digest}`);
    return { mediaType, digest, bytes, manifest: JSON.parse(bytes.toString()) } as unknown as Manifest;
  };
  const client = {
    async getManifest(ref: Reference) {
      return manifest(ref);
    },
    async headManifest(ref: Reference) {
      calls.push(`HEAD ${ref.tag ?? ref.digest}`);
      return { digest, mediaType, size: bytes.length, headers: {} };
    },
  } as unknown as RegistryClient;
  return { client, calls };
}

describe('registry source: finding the root', () => {
  it('GETs the tag once and serves the root manifest from that answer', async () => {
    const { client, calls } = fakeClient();
    const source = createRegistrySource(client, { registry: 'registry.test', repository: 'team/app', tag: 'v1' });
    const [image] = await source.images();
    expect(image?.root).toEqual({ mediaType, digest, size: bytes.length });
    const root = await source.manifest({ mediaType, digest, size: bytes.length });
    expect(Buffer.from(root.bytes).equals(bytes)).toBe(true);
    expect(calls).toEqual(['GET v1']);
  });

  it('HEADs on Docker Hub, where a GET counts against the pull allowance, and GETs by digest only when asked', async () => {
    const { client, calls } = fakeClient();
    const source = createRegistrySource(client, { registry: 'docker.io', repository: 'library/alpine', tag: '3.20' });
    const [image] = await source.images();
    expect(image?.root.digest).toBe(digest);
    expect(calls).toEqual(['HEAD 3.20']);
    await source.manifest({ mediaType, digest, size: bytes.length });
    expect(calls).toEqual(['HEAD 3.20', `GET ${digest}`]);
  });
});
