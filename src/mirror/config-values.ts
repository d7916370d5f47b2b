import { isGantryError, type ErrorCode } from '../errors/index.js';
import { parsePlatform } from '../media/index.js';
import type { Platform } from '../media/types.js';
import { parseRegistryHost, parseRepository } from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import { filterTags } from '../tags/index.js';
import type { ConfigPath, YamlLocator } from './yaml-location.js';

/**
 * Value checks shared by the mirror file and the skopeo sync file: each
 * turns the lower layer's error into CONFIG_INVALID naming the line and the
 * field, keeping the original as the cause.
 */
export interface ValueChecker {
  regex(pattern: string, path: ConfigPath): RegExp;
  range(range: string, path: ConfigPath): string;
  repository(name: string, path: ConfigPath): Reference;
  registry(host: string, path: ConfigPath): string;
  platforms(specifiers: readonly string[], path: ConfigPath): Platform[];
}

export function createValueChecker(locator: YamlLocator): ValueChecker {
  const convert = <T>(code: ErrorCode, path: ConfigPath, run: () => T): T => {
    try {
      return run();
    } catch (err) {
      if (!isGantryError(err, code)) throw err;
      throw locator.error(path, err.message, { cause: err, ...(err.hint === undefined ? {} : { hint: err.hint }) });
    }
  };
  return {
    regex(pattern, path) {
      try {
        return new RegExp(pattern);
      } catch (err) {
        // The RegExp constructor reports a bad pattern as a SyntaxError.
        if (!(err instanceof SyntaxError)) throw err;
        throw locator.error(path, `invalid regular expression: ${err.message}`, {
          cause: err,
          hint: 'Write a JavaScript regular expression; anchor it with ^ and $ to match whole tags.',
        });
      }
    },
    range(range, path) {
      convert('SEMVER_RANGE_INVALID', path, () => filterTags([], { range }));
      return range;
    },
    repository(name, path) {
      return convert('REFERENCE_INVALID', path, () => parseRepository(name));
    },
    registry(host, path) {
      if (host.includes('/')) throw locator.error(path, 'must be a registry host without a path; put the path in prefix');
      return convert('REFERENCE_INVALID', path, () => parseRegistryHost(host));
    },
    platforms(specifiers, path) {
      return specifiers.map((s, i) => convert('PLATFORM_INVALID', [...path, i], () => parsePlatform(s)));
    },
  };
}
