/**
 * Media types gantry recognizes, and predicates over them.
 *
 * Sources: the OCI image-spec (media-types.md) and Docker's image manifest
 * v2 schema 2 document. Media types compare case-insensitively (RFC 6838);
 * the predicates here accept a Content-Type value with parameters too.
 */

/** Docker image manifest, schema 2. */
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** Docker manifest list (multi-platform), schema 2. */
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** Docker schema 1 manifest, unsigned. Deprecated; gantry refuses it. */
export const DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
/** Docker schema 1 manifest with a JWS signature. Deprecated; gantry refuses it. */
export const DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
/** Docker image config. */
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
/** Docker layer, gzip-compressed tar. */
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** Docker layer, zstd-compressed tar (containerd's MediaTypeDockerSchema2LayerZstd, written by BuildKit). */
export const DOCKER_LAYER_ZSTD = 'application/vnd.docker.image.rootfs.diff.tar.zstd';
/** Docker layer, uncompressed tar. */
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';
/** Docker foreign layer (Windows base layers): fetched from `urls`, not pushed to registries. */
export const DOCKER_FOREIGN_LAYER_GZIP = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
/** Docker foreign layer, uncompressed. */
export const DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar';

/** OCI image manifest. */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** OCI image index. */
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** OCI image config. */
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** OCI empty descriptor content (`{}`), used as the config of artifacts. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
/** OCI layer, uncompressed tar. */
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
/** OCI layer, gzip-compressed tar. */
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** OCI layer, zstd-compressed tar. */
export const OCI_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
/** OCI non-distributable layer, uncompressed (deprecated by image-spec 1.1, still found in old images). */
export const OCI_NONDISTRIBUTABLE_LAYER = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
/** OCI non-distributable layer, gzip. */
export const OCI_NONDISTRIBUTABLE_LAYER_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
/** OCI non-distributable layer, zstd. */
export const OCI_NONDISTRIBUTABLE_LAYER_ZSTD = 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd';

/**
 * The Accept list gantry sends for manifests, most preferred first. Schema 1
 * is deliberately absent: gantry cannot use it, so it must never be the
 * registry's choice. A registry that holds only schema 1 still answers with
 * it (distribution ignores Accept for stored schema 1 content), and
 * `parseManifest` then reports it clearly.
 */
export const MANIFEST_ACCEPT: readonly string[] = Object.freeze([OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST]);

const FOREIGN_LAYERS = new Set([
  DOCKER_FOREIGN_LAYER,
  DOCKER_FOREIGN_LAYER_GZIP,
  OCI_NONDISTRIBUTABLE_LAYER,
  OCI_NONDISTRIBUTABLE_LAYER_GZIP,
  OCI_NONDISTRIBUTABLE_LAYER_ZSTD,
]);

/**
 * The bare media type of a Content-Type value: parameters dropped, trimmed,
 * lowercased. `application/json; charset=utf-8` → `application/json`.
 * Returns '' for an empty or missing value.
 */
export function baseMediaType(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** True for a Docker manifest list or an OCI image index. */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  const mt = baseMediaType(mediaType);
  return mt === OCI_INDEX || mt === DOCKER_MANIFEST_LIST;
}

/** True for a Docker schema 2 manifest or an OCI image manifest (not schema 1). */
export function isImageManifestMediaType(mediaType: string | undefined): boolean {
  const mt = baseMediaType(mediaType);
  return mt === OCI_MANIFEST || mt === DOCKER_MANIFEST;
}

/** True for either kind of manifest gantry can parse: an index or an image manifest. */
export function isManifestMediaType(mediaType: string | undefined): boolean {
  return isIndexMediaType(mediaType) || isImageManifestMediaType(mediaType);
}

/** True for Docker schema 1, signed or not. */
export function isSchema1(mediaType: string | undefined): boolean {
  const mt = baseMediaType(mediaType);
  return mt === DOCKER_SCHEMA1 || mt === DOCKER_SCHEMA1_SIGNED;
}

/**
 * True for layers that registries may not hold (Docker foreign layers, OCI
 * non-distributable layers): copies keep their descriptor but do not need to
 * transfer the blob.
 */
export function isForeignLayer(mediaType: string | undefined): boolean {
  return FOREIGN_LAYERS.has(baseMediaType(mediaType));
}
