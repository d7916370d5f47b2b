import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { GantryError } from '../errors/index.js';
import { mirrorSchema, type RawMirrorFile } from './schema.js';
import { formatConfigPath, pointerSegments, type ConfigPath, type YamlLocator } from './yaml-location.js';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, strict: true }).compile(mirrorSchema);
  return compiled;
}

interface Problem {
  path: ConfigPath;
  key: boolean;
  message: string;
  line: number | undefined;
}

/**
 * Checks parsed mirror-file data against `mirrorSchema`.
 * @throws GantryError CONFIG_INVALID naming the first problem by line
 *   (`mirror.yaml:12: sources[1].semver: must be a string`), with every
 *   problem found listed in `details.problems`.
 */
export function checkMirrorSchema(data: unknown, locator: YamlLocator): asserts data is RawMirrorFile {
  const validate = validator();
  if (validate(data)) return;
  const problems = (validate.errors ?? []).map((e) => toProblem(e, locator));
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const first = problems[0];
  if (first === undefined) throw new Error('ajv rejected the mirror file without saying why');
  const err = locator.error(first.path, first.message, { key: first.key });
  throw new GantryError('CONFIG_INVALID', err.message, {
    hint: 'See docs/mirror.md for the file format.',
    details: {
      ...err.details,
      problems: problems.slice(0, 20).map((p) => `${p.line ?? '?'}: ${formatConfigPath(p.path)}: ${p.message}`),
    },
  });
}

function toProblem(e: ErrorObject, locator: YamlLocator): Problem {
  const parent: ConfigPath = pointerSegments(e.instancePath).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  let path = parent;
  let key = false;
  let message: string;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      path = [...parent, String(params['missingProperty'])];
      message = 'is required';
      break;
    case 'additionalProperties':
      path = [...parent, String(params['additionalProperty'])];
      key = true;
      message = 'is not a known field';
      break;
    case 'type':
      message = `must be ${article(String(params['type']))}`;
      break;
    case 'minItems':
      message = `must have at least ${String(params['limit'])} item${params['limit'] === 1 ? '' : 's'}`;
      break;
    case 'minLength':
      message = 'must not be empty';
      break;
    default:
      message = e.message ?? `fails ${e.keyword}`;
  }
  return { path, key, message, line: locator.lineOf(path, { key }) };
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
