import { GantryError } from '../errors/index.js';
import { parseRegistryHost } from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import { createValueChecker, type ValueChecker } from './config-values.js';
import { destinationRepository } from './destination.js';
import type { MirrorSource, MirrorSpec, TagSelection } from './types.js';
import { readYamlFile } from './yaml-file.js';
import type { ConfigPath, YamlLocator } from './yaml-location.js';

/*
 * skopeo sync's YAML (`skopeo sync --src yaml FILE DST`, docs/skopeo-sync.1.md
 * and cmd/skopeo/sync.go in containers/skopeo): a map of registry host →
 *
 * honoured:
 *   images: { repo: [tag…] }      listed tags; an empty list means every tag
 *   images-by-tag-regex: { repo: regex }   tags matching (unanchored, as Go's MatchString)
 *   images-by-semver: { repo: constraint } Masterminds constraints; `,` (AND) becomes a space
 *   tls-verify: true               the default anyway
 * refused with CONFIG_INVALID and a hint:
 *   tls-verify: false   (use `--insecure` or gantry's `insecure-registries` setting)
 *   credentials         (secrets do not belong in this file: `gantry login HOST`)
 *   cert-dir            (gantry reads /etc/docker/certs.d/HOST and /etc/containers/certs.d/HOST)
 *   digests in images   (mirror works by tag)
 *   any other key       (skopeo ignores unknown keys; refusing catches typos)
 *
 * Each (registry, key, repository) becomes its own source, so a repository
 * listed under two keys gets the union of both selections, as in skopeo.
 * Destinations follow skopeo: DST/<last path component of the repository>,
 * or DST/<registry>/<repository> with `scoped` (`--scoped`). Regexes are
 * compiled as JavaScript, which agrees with Go's RE2 on the usual syntax;
 * Go-only syntax (`(?P<name>…)`) is an error naming the line. Version
 * reading differs in one corner: skopeo counts an all-digit tag such as
 * `20240101` as a version, gantry does not (see `semverOf`).
 */

export interface SkopeoSyncOptions {
  /** The DST argument: a registry with an optional path, `my-registry.local.lan/repo/`. */
  destination: string;
  /** Put each repository under DST with its registry and full path, as `skopeo sync --scoped`. */
  scoped?: boolean;
  /** The name used in messages; default `sync.yaml`. */
  fileName?: string;
}

const KEYS = new Set(['images', 'images-by-tag-regex', 'images-by-semver', 'tls-verify', 'credentials', 'cert-dir']);
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/**
 * Converts a skopeo sync YAML file into a `MirrorSpec` mirroring to
 * `options.destination`, with default settings (no prune, no skip-existing,
 * every platform: like `skopeo sync --all`).
 * @throws GantryError CONFIG_INVALID naming the line for YAML errors,
 *   wrong shapes, bad regexes or ranges, and the refused keys above;
 *   REFERENCE_INVALID when DST is not `HOST[/PATH]`.
 */
export function parseSkopeoSync(text: string, options: SkopeoSyncOptions): MirrorSpec {
  const { data, locator } = readYamlFile(text, options.fileName ?? 'sync.yaml');
  const check = createValueChecker(locator);
  const dst = splitDestination(options.destination);
  const sources: MirrorSource[] = [];
  for (const [host, entry] of entries(data, [], locator)) {
    const registry = check.registry(host, [host]);
    for (const [key, value] of entries(entry, [host], locator)) {
      const path = [host, key];
      if (!KEYS.has(key)) throw locator.error(path, 'is not a skopeo sync key gantry knows', { key: true });
      if (key === 'tls-verify') checkTlsVerify(value, path, locator);
      if (key === 'credentials') throw refused(locator, path, 'credentials in the file are not supported', `Store them with "gantry login ${registry}".`);
      if (key === 'cert-dir') throw refused(locator, path, 'cert-dir is not supported', `Put the certificates in /etc/docker/certs.d/${registry}/ or /etc/containers/certs.d/${registry}/.`);
      if (!key.startsWith('images')) continue;
      for (const [repo, spec] of entries(value, path, locator)) {
        const repository = check.repository(`${registry}/${repo}`, [...path, repo]);
        const selection = selectionOf({ key, spec, path: [...path, repo], check, locator });
        const line = locator.lineOf([...path, repo], { key: true });
        sources.push({
          repository,
          selection,
          destinations: [{ repository: destinationFor(repository, dst, options.scoped === true) }],
          ...(line === undefined ? {} : { origin: `${locator.fileName}:${line}` }),
        });
      }
    }
  }
  return { defaults: { skipExisting: false, prune: false, includePrerelease: false, registries: {} }, sources };
}

interface SelectionContext {
  key: string;
  spec: unknown;
  path: ConfigPath;
  check: ValueChecker;
  locator: YamlLocator;
}

function selectionOf({ key, spec, path, check, locator }: SelectionContext): TagSelection {
  const base: TagSelection = { tags: [], include: [], exclude: [], includePrerelease: false };
  if (key === 'images') {
    if (spec === null || spec === undefined) return base;
    if (!Array.isArray(spec)) throw locator.error(path, 'must be a list of tags');
    const tags = spec.map((t: unknown, i) => {
      if (typeof t !== 'string' || t === '') throw locator.error([...path, i], 'must be a tag');
      if (DIGEST_RE.test(t)) throw refused(locator, [...path, i], 'digest references are not supported', 'gantry mirror copies tags; list the tag instead.');
      return t;
    });
    return { ...base, tags: [...new Set(tags)] };
  }
  if (typeof spec !== 'string' || spec === '') throw locator.error(path, key === 'images-by-semver' ? 'must be a semver constraint' : 'must be a regular expression');
  if (key === 'images-by-tag-regex') return { ...base, include: [check.regex(spec, path)] };
  // Masterminds separates AND-ed comparisons with commas; node-semver with spaces.
  return { ...base, semver: check.range(spec.replace(/\s*,\s*/g, ' '), path) };
}

function checkTlsVerify(value: unknown, path: ConfigPath, locator: YamlLocator): void {
  if (value === true) return;
  if (value === false) {
    throw refused(locator, path, 'tls-verify: false is not supported in the file', 'Pass --insecure, or list the registry in "insecure-registries" in ~/.config/gantry/config.json.');
  }
  throw locator.error(path, 'must be true or false');
}

function refused(locator: YamlLocator, path: ConfigPath, message: string, hint: string): GantryError {
  return locator.error(path, message, { hint, key: true });
}

/** The keys and values of a YAML mapping, in document order. */
function entries(value: unknown, path: ConfigPath, locator: YamlLocator): Array<[string, unknown]> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw locator.error(path, 'must be a mapping');
  }
  return Object.entries(value);
}

interface SplitDestination {
  registry: string;
  prefix: string;
}

function splitDestination(dst: string): SplitDestination {
  const slash = dst.indexOf('/');
  const host = slash < 0 ? dst : dst.slice(0, slash);
  return { registry: parseRegistryHost(host), prefix: slash < 0 ? '' : dst.slice(slash + 1) };
}

function destinationFor(source: Reference, dst: SplitDestination, scoped: boolean): Reference {
  const rename = scoped ? `${source.registry}/${source.repository}` : (source.repository.split('/').pop() as string);
  return destinationRepository(source, { registry: dst.registry, ...(dst.prefix === '' ? {} : { prefix: dst.prefix }), rename });
}

