import { GantryError } from '../errors/index.js';
import { parseJson } from '../internal/parse-json.js';
import { checkDescriptor, checkStringMap, invalid, isJsonObject, isValidDigest, isValidMediaType } from './descriptor.js';
import {
  DOCKER_CONFIG,
  DOCKER_MANIFEST,
  OCI_INDEX,
  OCI_MANIFEST,
  baseMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1,
} from './media-types.js';
import type { ImageIndex, ImageManifest, Manifest } from './types.js';

export interface ParseManifestOptions {
  /** The exact bytes as fetched or read; their digest is the manifest's identity. */
  bytes: Uint8Array;
  /** The Content-Type the registry sent, parameters allowed; omit when there was none (OCI layouts, archives). */
  contentType?: string;
  /** The digest of `bytes`, already computed or verified by the caller; carried into the result. */
  digest: string;
}

// Fields that identify a manifest format. A document carrying fields of two
// formats is ambiguous: two clients could read different images out of the
// same digest (CVE-2021-41190; containers/image rejects these the same way).
const INDEX_FIELDS = ['manifests'] as const;
const IMAGE_FIELDS = ['config', 'layers'] as const;
const SCHEMA1_FIELDS = ['fsLayers', 'history'] as const;

/**
 * Parses a manifest or index and validates its shape.
 *
 * The media type is decided by the body's `mediaType` field, else the
 * Content-Type when it names a manifest type, else the structure
 * (`manifests` → index, `config` + `layers` → image). A body `mediaType`
 * that contradicts a manifest Content-Type is rejected rather than
 * resolved either way, as is a body mixing index and image fields. The
 * returned `manifest` is the parsed object itself, so unknown fields,
 * `artifactType`, `subject` and `annotations` are carried through.
 *
 * @throws GantryError UNSUPPORTED_MEDIA_TYPE for Docker schema 1 or a media type that is no manifest gantry knows.
 * @throws GantryError MANIFEST_INVALID for bytes that are not UTF-8 JSON, a wrong shape, an ambiguous or contradictory type.
 * @throws GantryError DIGEST_INVALID when `digest` is not a digest string.
 */
export function parseManifest(options: ParseManifestOptions): Manifest {
  const { bytes, digest } = options;
  if (!isValidDigest(digest)) {
    throw new GantryError('DIGEST_INVALID', 'manifest digest is not a valid digest', { details: { digest: String(digest).slice(0, 200) } });
  }
  const doc = decodeJson(bytes);
  const header = baseMediaType(options.contentType);

  if (doc.mediaType !== undefined && typeof doc.mediaType !== 'string') invalid('mediaType', 'must be a string');
  const declared = doc.mediaType === undefined ? undefined : baseMediaType(doc.mediaType);

  if (doc.schemaVersion === 1 || isSchema1(declared) || (declared === undefined && isSchema1(header))) {
    throw new GantryError('UNSUPPORTED_MEDIA_TYPE', 'schema1 manifests are not supported', {
      hint: 'The image is stored as Docker schema 1, which registries have deprecated: ask its publisher to re-push it with a current client (docker, buildah, crane).',
    });
  }
  if (declared !== undefined && (isManifestMediaType(header) || isSchema1(header)) && declared !== header) {
    invalid('mediaType', `"${declared}" contradicts the Content-Type "${header}"`);
  }
  if (doc.schemaVersion !== 2) invalid('schemaVersion', 'must be 2');

  const present = (fields: readonly string[]): boolean => fields.some((f) => f in doc);
  if (present(SCHEMA1_FIELDS) || (present(INDEX_FIELDS) && present(IMAGE_FIELDS))) {
    invalid('document', 'is ambiguous: it mixes fields of several manifest formats');
  }

  const mediaType = declared ?? (isManifestMediaType(header) ? header : structuralMediaType(doc));
  if (!isManifestMediaType(mediaType)) {
    throw new GantryError('UNSUPPORTED_MEDIA_TYPE', `unsupported manifest media type "${mediaType.slice(0, 200)}"`, {
      hint: 'gantry handles OCI and Docker schema 2 images and indexes.',
    });
  }

  checkCommonFields(doc);
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(doc.manifests)) invalid('manifests', 'must be an array of descriptors');
    doc.manifests.forEach((entry, i) => checkDescriptor(entry, `manifests[${i}]`));
    return { kind: 'index', mediaType, digest, bytes, manifest: doc as ImageIndex };
  }
  checkDescriptor(doc.config, 'config');
  if (!Array.isArray(doc.layers)) invalid('layers', 'must be an array of descriptors');
  doc.layers.forEach((entry, i) => checkDescriptor(entry, `layers[${i}]`));
  return { kind: 'image', mediaType, digest, bytes, manifest: doc as ImageManifest };
}

function decodeJson(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    throw new GantryError('MANIFEST_INVALID', 'invalid manifest: not UTF-8 text', { cause: err });
  }
  const parsed = parseJson(text);
  if (!parsed.ok) throw new GantryError('MANIFEST_INVALID', `invalid manifest: not valid JSON (syntax error at ${parsed.where})`);
  const doc = parsed.value;
  if (!isJsonObject(doc)) invalid('document', 'must be a JSON object');
  return doc;
}

// Without a declared type, the structure decides. Docker schema 2 always
// declares its mediaType, so an undeclared image is OCI unless its config
// says Docker.
function structuralMediaType(doc: Record<string, unknown>): string {
  if (Array.isArray(doc.manifests)) return OCI_INDEX;
  if ('config' in doc && 'layers' in doc) {
    const config = doc.config;
    return isJsonObject(config) && config.mediaType === DOCKER_CONFIG ? DOCKER_MANIFEST : OCI_MANIFEST;
  }
  return invalid('document', 'is neither an index (manifests) nor an image manifest (config and layers)');
}

function checkCommonFields(doc: Record<string, unknown>): void {
  if (doc.artifactType !== undefined && !isValidMediaType(doc.artifactType)) invalid('artifactType', 'must be a media type (type/subtype)');
  if (doc.subject !== undefined) checkDescriptor(doc.subject, 'subject');
  if (doc.annotations !== undefined) checkStringMap(doc.annotations, 'annotations');
}
