import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../../src/digest/index.js';
import type { Manifest } from '../../../../src/media/types.js';
import type { Reference } from '../../../../src/reference/types.js';
import type { RegistryClient } from '../../../../src/registry/types.js';
import { createRegistrySource } from '../../../../src/transports/registry/index.js';

// How a registry source finds the root of one reference: a HEAD, because
// registries count manifest GETs as pulls and a copy whose target is up to
// date should not count as one.

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
  for (const registry of ['registry.test', 'docker.io']) {
    it(`HEADs the tag (${registry}), and GETs the root by digest only when the copy asks for it`, async () => {
      const { client, calls } = fakeClient();
      const source = createRegistrySource(client, { registry, repository: 'team/app', tag: 'v1' });
      const [image] = await source.images();
      expect(image?.root).toEqual({ mediaType, digest, size: bytes.length });
      // A copy whose target has the image stops here: no GET, so no pull counted.
      expect(calls).toEqual(['HEAD v1']);
      const root = await source.manifest({ mediaType, digest, size: bytes.length });
      expect(Buffer.from(root.bytes).equals(bytes)).toBe(true);
      expect(calls).toEqual(['HEAD v1', `GET ${digest}`]);
    });
  }
});
