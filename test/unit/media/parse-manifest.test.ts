import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GantryError, isGantryError } from '../../../src/errors/index.js';
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_SCHEMA1,
  DOCKER_SCHEMA1_SIGNED,
  OCI_CONFIG,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
} from '../../../src/media/media-types.js';
import { parseManifest } from '../../../src/media/parse-manifest.js';

const DIGEST = `sha256:${'f'.repeat(64)}`;

function hex(n: number): string {
  return n.toString(16).padStart(64, '0');
}

function desc(mediaType: string, n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { mediaType, digest: `sha256:${hex(n)}`, size: 100 + n, ...extra };
}

function ociImage(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: OCI_MANIFEST, config: desc(OCI_CONFIG, 1), layers: [desc(OCI_LAYER_GZIP, 2)], ...extra };
}

function dockerImage(): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: desc(DOCKER_CONFIG, 1), layers: [desc(DOCKER_LAYER_GZIP, 2)] };
}

function index(mediaType: string | undefined): Record<string, unknown> {
  const entryType = mediaType === DOCKER_MANIFEST_LIST ? DOCKER_MANIFEST : OCI_MANIFEST;
  return {
    schemaVersion: 2,
    ...(mediaType === undefined ? {} : { mediaType }),
    manifests: [
      desc(entryType, 3, { platform: { os: 'linux', architecture: 'amd64' } }),
      desc(entryType, 4, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }),
    ],
  };
}

function without(doc: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _removed, ...rest } = doc;
  return rest;
}

function bytesOf(doc: unknown): Uint8Array {
  return new TextEncoder().encode(typeof doc === 'string' ? doc : JSON.stringify(doc));
}

function parse(doc: unknown, contentType?: string) {
  return parseManifest({ bytes: bytesOf(doc), digest: DIGEST, ...(contentType === undefined ? {} : { contentType }) });
}

function errorOf(fn: () => unknown): GantryError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GantryError) return err;
    throw err;
  }
  throw new Error('expected a GantryError, nothing was thrown');
}

describe('parseManifest: deciding the media type', () => {
  it.each([
    ['an OCI manifest', ociImage(), 'image', OCI_MANIFEST],
    ['a Docker v2 manifest', dockerImage(), 'image', DOCKER_MANIFEST],
    ['an OCI index', index(OCI_INDEX), 'index', OCI_INDEX],
    ['a Docker manifest list', index(DOCKER_MANIFEST_LIST), 'index', DOCKER_MANIFEST_LIST],
  ])('takes the body mediaType of %s', (_label, doc, kind, mediaType) => {
    const m = parse(doc);
    expect(m.kind).toBe(kind);
    expect(m.mediaType).toBe(mediaType);
  });

  it('uses the Content-Type when the body declares no mediaType', () => {
    expect(parse(without(dockerImage(), 'mediaType'), DOCKER_MANIFEST).mediaType).toBe(DOCKER_MANIFEST);
    expect(parse(index(undefined), DOCKER_MANIFEST_LIST).mediaType).toBe(DOCKER_MANIFEST_LIST);
  });

  it('falls back to the structure without a declared type or a manifest Content-Type', () => {
    expect(parse(index(undefined)).mediaType).toBe(OCI_INDEX);
    expect(parse(without(ociImage(), 'mediaType'), 'application/octet-stream').mediaType).toBe(OCI_MANIFEST);
    expect(parse(without(dockerImage(), 'mediaType'), 'application/json').mediaType).toBe(DOCKER_MANIFEST);
  });

  it('accepts a Content-Type with parameters and different case', () => {
    expect(parse(ociImage(), 'Application/Vnd.OCI.Image.Manifest.v1+json; charset=utf-8').mediaType).toBe(OCI_MANIFEST);
  });

  it('ignores a generic Content-Type when the body declares its type', () => {
    expect(parse(index(OCI_INDEX), 'application/json').kind).toBe('index');
    expect(parse(ociImage(), 'text/plain').kind).toBe('image');
  });

  it.each([
    ['an OCI manifest served as Docker v2', ociImage(), DOCKER_MANIFEST],
    ['a Docker v2 manifest served as OCI', dockerImage(), OCI_MANIFEST],
    ['an index served as a manifest', index(OCI_INDEX), OCI_MANIFEST],
    ['a manifest served as a manifest list', dockerImage(), DOCKER_MANIFEST_LIST],
  ])('rejects %s as MANIFEST_INVALID', (_label, doc, contentType) => {
    const err = errorOf(() => parse(doc, contentType));
    expect(err.code).toBe('MANIFEST_INVALID');
    expect(err.message).toContain('contradicts the Content-Type');
  });
});

describe('parseManifest: schema 1 and unknown types', () => {
  const schema1 = { schemaVersion: 1, name: 'library/alpine', tag: 'latest', fsLayers: [{ blobSum: `sha256:${hex(1)}` }], history: [] };

  it.each([
    ['a signed schema 1 body', schema1, DOCKER_SCHEMA1_SIGNED],
    ['a schema 1 body without a Content-Type', schema1, undefined],
    ['a schema 1 body served as JSON', schema1, 'application/json'],
    ['a body declaring schema 1', { ...ociImage(), mediaType: DOCKER_SCHEMA1 }, undefined],
  ])('refuses %s with UNSUPPORTED_MEDIA_TYPE and a hint', (_label, doc, contentType) => {
    const err = errorOf(() => parse(doc, contentType));
    expect(err.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(err.message).toBe('schema1 manifests are not supported');
    expect(err.hint).toMatch(/re-push/);
  });

  it('refuses a declared media type that is no manifest gantry knows', () => {
    const artifact = { schemaVersion: 2, mediaType: 'application/vnd.oci.artifact.manifest.v1+json', blobs: [] };
    const err = errorOf(() => parse(artifact));
    expect(err.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(err.message).toContain('application/vnd.oci.artifact.manifest.v1+json');
  });
});

describe('parseManifest: shape validation', () => {
  it.each([
    ['bytes that are not UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
    ['text that is not JSON', '{"schemaVersion": 2,'],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['schemaVersion 3', ociImage({ schemaVersion: 3 })],
    ['schemaVersion as a string', ociImage({ schemaVersion: '2' })],
    ['a missing schemaVersion', without(ociImage(), 'schemaVersion')],
    ['a mediaType that is not a string', ociImage({ mediaType: 7 })],
    ['a missing config', without(ociImage(), 'config')],
    ['layers that are not an array', ociImage({ layers: {} })],
    ['a layer with a bad digest', ociImage({ layers: [desc(OCI_LAYER_GZIP, 2, { digest: 'sha256:xyz' })] })],
    ['a layer with a negative size', ociImage({ layers: [desc(OCI_LAYER_GZIP, 2, { size: -5 })] })],
    ['a config without mediaType', ociImage({ config: without(desc(OCI_CONFIG, 1), 'mediaType') })],
    ['an index whose manifests are not an array', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: 'x' }],
    ['an index entry with a bad platform', { ...index(OCI_INDEX), manifests: [desc(OCI_MANIFEST, 3, { platform: 'linux/amd64' })] }],
    ['an index declared for an image body', ociImage({ mediaType: OCI_INDEX })],
    ['an image declared for an index body', { ...index(undefined), mediaType: OCI_MANIFEST }],
    ['a body that is neither', { schemaVersion: 2 }],
    ['an ambiguous body with manifests and layers', { ...index(undefined), layers: [] }],
    ['an ambiguous body with manifests and config', { ...index(OCI_INDEX), config: desc(OCI_CONFIG, 1) }],
    ['schema 1 fields in a schema 2 body', ociImage({ fsLayers: [] })],
    ['an invalid subject', ociImage({ subject: { digest: 'nope' } })],
    ['annotations that are not strings', ociImage({ annotations: { a: true } })],
    ['an artifactType that is not a media type', ociImage({ artifactType: 'sbom' })],
  ])('rejects %s with MANIFEST_INVALID', (_label, doc) => {
    const bytes = doc instanceof Uint8Array ? doc : bytesOf(doc);
    const err = errorOf(() => parseManifest({ bytes, digest: DIGEST }));
    expect(err.code).toBe('MANIFEST_INVALID');
  });

  it('refuses a digest that is not one', () => {
    const err = errorOf(() => parseManifest({ bytes: bytesOf(ociImage()), digest: 'sha256:short' }));
    expect(err.code).toBe('DIGEST_INVALID');
  });

  it('accepts an artifact with an empty config and no layers', () => {
    const m = parse(ociImage({ artifactType: 'application/vnd.example.sbom+json', config: desc(OCI_EMPTY, 1, { size: 2 }), layers: [] }));
    expect(m.kind).toBe('image');
  });

  it('accepts an empty index', () => {
    const m = parse({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    expect(m.kind === 'index' && m.manifest.manifests).toEqual([]);
  });
});

describe('parseManifest: what it returns', () => {
  it('keeps the exact bytes and the digest it was given', () => {
    const bytes = bytesOf(ociImage());
    const m = parseManifest({ bytes, digest: DIGEST, contentType: OCI_MANIFEST });
    expect(m.bytes).toBe(bytes);
    expect(m.digest).toBe(DIGEST);
  });

  it('carries artifactType, subject, annotations and unknown fields through', () => {
    const subject = desc(OCI_MANIFEST, 9);
    const doc = ociImage({
      artifactType: 'application/vnd.example.sig',
      subject,
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
      'io.example.vendor': { kept: [1, 2, 3] },
      layers: [desc(OCI_LAYER_GZIP, 2, { 'io.example.layer-note': 'kept too' })],
    });
    const m = parse(doc);
    expect(m.manifest).toEqual(doc);
    expect(m.manifest.subject).toEqual(subject);
  });

  it('gives index entries with their platforms', () => {
    const m = parse(index(OCI_INDEX));
    if (m.kind !== 'index') throw new Error('expected an index');
    expect(m.manifest.manifests.map((d) => d.platform?.architecture)).toEqual(['amd64', 'arm64']);
  });
});

describe('parseManifest: robustness', () => {
  it('throws only GantryErrors, whatever JSON it is given', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.option(fc.constantFrom(OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_SCHEMA1, 'application/json'), { nil: undefined }), (doc, contentType) => {
        try {
          parse(JSON.stringify(doc), contentType);
        } catch (err) {
          if (!isGantryError(err)) throw err;
        }
      }),
    );
  });

  it('throws only GantryErrors, whatever bytes it is given', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseManifest({ bytes, digest: DIGEST });
        } catch (err) {
          if (!isGantryError(err)) throw err;
        }
      }),
    );
  });
});
