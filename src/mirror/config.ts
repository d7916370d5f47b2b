import { isGantryError } from '../errors/index.js';
import { repositoryOf } from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import { createValueChecker, type ValueChecker } from './config-values.js';
import { destinationRepository } from './destination.js';
import type { RawDestination, RawMirrorFile, RawSource } from './schema.js';
import { checkMirrorSchema } from './schema-check.js';
import type { MirrorDefaults, MirrorDestination, MirrorSource, MirrorSpec } from './types.js';
import { readYamlFile } from './yaml-file.js';
import type { ConfigPath, YamlLocator } from './yaml-location.js';

export interface ParseMirrorConfigOptions {
  /** The name used in messages (`mirror.yaml:12: …`); default `mirror.yaml`. */
  fileName?: string;
}

/**
 * Parses and validates a `mirror.yaml` (format in docs/mirror.md) into a
 * normalized `MirrorSpec`: repositories parsed and normalized, regexes
 * compiled, semver ranges and platforms checked, registry destinations
 * resolved to repositories, defaults applied to each source. Pure: reads
 * nothing but `text`.
 *
 * @throws GantryError CONFIG_INVALID `FILE:LINE: FIELD: problem` for a YAML
 *   syntax error, a schema violation (unknown field, wrong type, missing
 *   repository or destinations), a bad regex, range, platform or repository,
 *   a destination naming both or neither of `repository` and `registry`, or
 *   a destination equal to its source.
 */
export function parseMirrorConfig(text: string, options: ParseMirrorConfigOptions = {}): MirrorSpec {
  const { data, locator } = readYamlFile(text, options.fileName ?? 'mirror.yaml');
  checkMirrorSchema(data, locator);
  const check = createValueChecker(locator);
  const defaults = normalizeDefaults(data, check);
  const sources = data.sources.map((raw, i) => normalizeSource({ raw, path: ['sources', i], defaults, check, locator }));
  return { defaults, sources };
}

function normalizeDefaults(file: RawMirrorFile, check: ValueChecker): MirrorDefaults {
  const raw = file.defaults ?? {};
  const registries: MirrorDefaults['registries'] = {};
  for (const [host, limits] of Object.entries(raw.registries ?? {})) {
    registries[check.registry(host, ['defaults', 'registries', host])] = { ...limits };
  }
  return {
    ...(raw.platforms === undefined ? {} : { platforms: check.platforms(raw.platforms, ['defaults', 'platforms']) }),
    ...(raw.concurrency === undefined ? {} : { concurrency: raw.concurrency }),
    skipExisting: raw.skipExisting ?? false,
    prune: raw.prune ?? false,
    includePrerelease: raw.includePrerelease ?? false,
    registries,
  };
}

interface SourceContext {
  raw: RawSource;
  path: ConfigPath;
  defaults: MirrorDefaults;
  check: ValueChecker;
  locator: YamlLocator;
}

function normalizeSource({ raw, path, defaults, check, locator }: SourceContext): MirrorSource {
  const repository = check.repository(raw.repository, [...path, 'repository']);
  const platforms = raw.platforms === undefined ? defaults.platforms : check.platforms(raw.platforms, [...path, 'platforms']);
  const line = locator.lineOf(path);
  return {
    repository,
    selection: {
      tags: [...new Set(raw.tags ?? [])],
      ...(raw.semver === undefined ? {} : { semver: check.range(raw.semver, [...path, 'semver']) }),
      include: (raw.include ?? []).map((p, i) => check.regex(p, [...path, 'include', i])),
      exclude: (raw.exclude ?? []).map((p, i) => check.regex(p, [...path, 'exclude', i])),
      ...(raw.latest === undefined ? {} : { latest: raw.latest }),
      includePrerelease: raw.includePrerelease ?? defaults.includePrerelease,
    },
    ...(platforms === undefined ? {} : { platforms }),
    destinations: raw.destinations.map((dest, i) => normalizeDestination({ source: repository, dest, path: [...path, 'destinations', i], check, locator })),
    ...(line === undefined ? {} : { origin: `${locator.fileName}:${line}` }),
  };
}

interface DestinationContext {
  source: Reference;
  dest: RawDestination;
  path: ConfigPath;
  check: ValueChecker;
  locator: YamlLocator;
}

function normalizeDestination({ source, dest, path, check, locator }: DestinationContext): MirrorDestination {
  let repository: Reference;
  if (dest.repository !== undefined) {
    if (dest.registry !== undefined) throw locator.error(path, 'names both repository and registry; give one');
    for (const field of ['prefix', 'rename'] as const) {
      if (dest[field] !== undefined) throw locator.error([...path, field], 'applies only with registry; give the whole name in repository', { key: true });
    }
    repository = check.repository(dest.repository, [...path, 'repository']);
  } else if (dest.registry !== undefined) {
    const registry = check.registry(dest.registry, [...path, 'registry']);
    try {
      repository = destinationRepository(source, {
        registry,
        ...(dest.prefix === undefined ? {} : { prefix: dest.prefix }),
        ...(dest.rename === undefined ? {} : { rename: dest.rename }),
      });
    } catch (err) {
      if (!isGantryError(err, 'REFERENCE_INVALID')) throw err;
      throw locator.error(path, err.message, { cause: err, ...(err.hint === undefined ? {} : { hint: err.hint }) });
    }
  } else {
    throw locator.error(path, 'needs repository (a whole name) or registry (with optional prefix and rename)');
  }
  if (repositoryOf(repository) === repositoryOf(source)) {
    throw locator.error(path, `is the source itself (${repositoryOf(source)})`);
  }
  return { repository };
}
