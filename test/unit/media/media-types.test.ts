import { describe, expect, it } from 'vitest';
import {
  DOCKER_FOREIGN_LAYER_GZIP,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_SCHEMA1,
  DOCKER_SCHEMA1_SIGNED,
  MANIFEST_ACCEPT,
  OCI_INDEX,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
  OCI_NONDISTRIBUTABLE_LAYER_GZIP,
  baseMediaType,
  isForeignLayer,
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1,
} from '../../../src/media/media-types.js';

describe('MANIFEST_ACCEPT', () => {
  it('asks for OCI index, OCI manifest, Docker list and Docker v2, in that order', () => {
    expect(MANIFEST_ACCEPT).toEqual([OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST]);
  });

  it('never asks for schema 1', () => {
    expect(MANIFEST_ACCEPT.some((mt) => isSchema1(mt))).toBe(false);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(MANIFEST_ACCEPT)).toBe(true);
  });
});

describe('media type predicates', () => {
  it.each([
    [OCI_INDEX, true, false],
    [DOCKER_MANIFEST_LIST, true, false],
    [OCI_MANIFEST, false, true],
    [DOCKER_MANIFEST, false, true],
    [DOCKER_SCHEMA1, false, false],
    [DOCKER_LAYER_GZIP, false, false],
    ['application/json', false, false],
  ])('%s: index=%s image=%s', (mt, index, image) => {
    expect(isIndexMediaType(mt)).toBe(index);
    expect(isImageManifestMediaType(mt)).toBe(image);
    expect(isManifestMediaType(mt)).toBe(index || image);
  });

  it('recognizes both schema 1 forms and nothing else', () => {
    expect(isSchema1(DOCKER_SCHEMA1)).toBe(true);
    expect(isSchema1(DOCKER_SCHEMA1_SIGNED)).toBe(true);
    expect(isSchema1(DOCKER_MANIFEST)).toBe(false);
    expect(isSchema1(undefined)).toBe(false);
  });

  it('accepts a Content-Type with parameters and any case', () => {
    expect(isImageManifestMediaType('Application/VND.oci.image.manifest.v1+json; charset=utf-8')).toBe(true);
    expect(isIndexMediaType(` ${OCI_INDEX} `)).toBe(true);
  });

  it('tells foreign and non-distributable layers from ordinary ones', () => {
    expect(isForeignLayer(DOCKER_FOREIGN_LAYER_GZIP)).toBe(true);
    expect(isForeignLayer(OCI_NONDISTRIBUTABLE_LAYER_GZIP)).toBe(true);
    expect(isForeignLayer(OCI_LAYER_GZIP)).toBe(false);
    expect(isForeignLayer(DOCKER_LAYER_GZIP)).toBe(false);
  });
});

describe('baseMediaType', () => {
  it.each([
    ['application/json; charset=utf-8', 'application/json'],
    ['  TEXT/Plain ', 'text/plain'],
    ['', ''],
    [undefined, ''],
  ])('%j → %j', (input, expected) => {
    expect(baseMediaType(input)).toBe(expected);
  });
});
