import { parseDigest } from '../digest/index.js';
import { isGantryError } from '../errors/index.js';
import { DOCKER_HUB, DOCKER_HUB_LEGACY, MAX_REPOSITORY_LENGTH, OFFICIAL_NAMESPACE } from './constants.js';
import { findHostProblem } from './domain.js';
import { familiarName } from './format.js';
import { makeReference } from './make-reference.js';
import { findPathProblem } from './path.js';
import { referenceError, type SyntaxProblem } from './syntax-problem.js';
import { findTagProblem } from './tag.js';
import type { Reference } from './types.js';

interface ParsedReference {
  reference: Reference;
  /** Index of the `:` before the tag, when there is a tag. */
  tagAt?: number;
  /** Index of the `@` before the digest, when there is a digest. */
  digestAt?: number;
}

interface SplitName {
  registry: string;
  /** The registry text as typed, when the input named one. */
  host?: string;
  /** True when the first component counts as a host only because it has uppercase letters. */
  hostByUppercase: boolean;
  path: string;
  pathOffset: number;
  /** `library/` for single-component Docker Hub names, else empty. */
  prefix: string;
}

const IDENTIFIER = /^[a-f0-9]{64}$/;

/**
 * Parse and normalize an image reference the way docker does
 * (distribution/reference ParseNormalizedNamed): `alpine` is
 * `docker.io/library/alpine`, `index.docker.io` becomes `docker.io`, the first
 * component is a registry host only when it is `localhost`, contains `.` or
 * `:`, or has uppercase letters. `name:tag@digest` keeps both. Digests follow
 * the OCI grammar (see `parseDigest`); ports must be at most 65535.
 *
 * @throws GantryError `REFERENCE_INVALID` for every string that is not a valid
 *   reference (and nothing else for any string), with `details: { input,
 *   position }`, `position` being the 0-based index where parsing failed.
 */
export function parseReference(input: string): Reference {
  return parseParts(input).reference;
}

/**
 * Parse a repository name without tag or digest (for commands like `tags
 * REPO`), normalized like `parseReference`.
 *
 * @throws GantryError `REFERENCE_INVALID` for an invalid name, or when the
 *   input has a tag or a digest.
 */
export function parseRepository(input: string): Reference {
  const { reference, tagAt, digestAt } = parseParts(input);
  const position = tagAt ?? digestAt;
  if (position === undefined) return reference;
  throw referenceError(input, {
    message: 'expected a repository without a tag or digest',
    position,
    hint: `Name the repository alone, e.g. ${familiarName(reference)}.`,
  });
}

function parseParts(input: string): ParsedReference {
  if (typeof input !== 'string') throw new TypeError(`a reference must be a string, got ${typeof input}`);
  const fail = (problem: SyntaxProblem, cause?: unknown): never => {
    throw referenceError(input, problem, { cause });
  };
  if (input.length === 0) fail({ message: 'reference is empty', position: 0 });
  if (IDENTIFIER.test(input)) {
    fail({
      message: 'invalid repository name (64 hex chars), cannot specify 64-byte hexadecimal strings',
      position: 0,
      hint: 'To name an image by digest, write REPOSITORY@sha256:<hex>.',
    });
  }

  const digestAt = input.indexOf('@');
  const namePart = digestAt < 0 ? input : input.slice(0, digestAt);
  // A tag follows the last path component; ':' before the last '/' can only be a port.
  const tagAt = namePart.indexOf(':', namePart.lastIndexOf('/') + 1);
  const name = tagAt < 0 ? namePart : namePart.slice(0, tagAt);

  if (name.length === 0) fail({ message: 'repository name is missing', position: 0 });
  const split = splitDockerDomain(name);
  if (split.host !== undefined) {
    const problem = findHostProblem(split.host, 0);
    if (problem) fail(split.hostByUppercase ? { ...problem, hint: UPPERCASE_HOST_HINT } : problem);
  }
  const pathProblem = findPathProblem(split.path, split.pathOffset);
  if (pathProblem) fail(name.startsWith('[') && split.host === undefined ? { ...pathProblem, hint: BARE_HOST_HINT } : pathProblem);
  const repository = split.prefix + split.path;
  if (repository.length > MAX_REPOSITORY_LENGTH) {
    fail({
      message: `repository name must not be more than ${MAX_REPOSITORY_LENGTH} characters (it has ${repository.length})`,
      position: split.pathOffset + MAX_REPOSITORY_LENGTH - split.prefix.length,
    });
  }

  let tag: string | undefined;
  if (tagAt >= 0) {
    tag = namePart.slice(tagAt + 1);
    const problem = findTagProblem(tag, tagAt + 1);
    if (problem) fail(problem);
  }

  let digest: string | undefined;
  if (digestAt >= 0) {
    try {
      digest = parseDigest(input.slice(digestAt + 1)).value;
    } catch (err) {
      if (!isGantryError(err, 'DIGEST_INVALID')) throw err;
      const position = err.details?.['position'];
      fail({ message: err.message, position: digestAt + 1 + (typeof position === 'number' ? position : 0), hint: err.hint }, err);
    }
  }

  return {
    reference: makeReference({ registry: split.registry, repository, tag, digest }),
    ...(tagAt >= 0 ? { tagAt } : {}),
    ...(digestAt >= 0 ? { digestAt } : {}),
  };
}

const UPPERCASE_HOST_HINT =
  'The first component has uppercase letters, so it is read as a registry host; repository names must be lowercase.';
const BARE_HOST_HINT = 'A registry host must be followed by /REPOSITORY, e.g. [::1]:5000/app.';

/**
 * Docker's rule for telling a registry host from a namespace
 * (distribution/reference normalize.go splitDockerDomain): the first
 * component is a host when it is `localhost`, contains `.` or `:`, or is not
 * all lowercase; anything else is a Docker Hub path, and a single-component
 * Docker Hub path lives under `library/`.
 */
function splitDockerDomain(name: string): SplitName {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasUppercase = first.toLowerCase() !== first;
  const isHost = slash >= 0 && (first === 'localhost' || first === DOCKER_HUB_LEGACY || /[.:]/.test(first) || hasUppercase);
  if (!isHost) {
    return { registry: DOCKER_HUB, hostByUppercase: false, path: name, pathOffset: 0, prefix: name.includes('/') ? '' : OFFICIAL_NAMESPACE };
  }
  const registry = first === DOCKER_HUB_LEGACY ? DOCKER_HUB : first;
  const path = name.slice(slash + 1);
  return {
    registry,
    host: first,
    hostByUppercase: hasUppercase && !/[.:]/.test(first),
    path,
    pathOffset: slash + 1,
    prefix: registry === DOCKER_HUB && !path.includes('/') ? OFFICIAL_NAMESPACE : '',
  };
}
