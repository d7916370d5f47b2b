import { LineCounter, parseDocument } from 'yaml';
import { GantryError } from '../errors/index.js';
import { createYamlLocator, type YamlLocator } from './yaml-location.js';

/** A YAML file parsed to plain data, with a locator for its lines. */
export interface YamlFile {
  data: unknown;
  locator: YamlLocator;
}

// Aliases can expand exponentially ("billion laughs"); a mirror file has no need for many.
const MAX_ALIAS_COUNT = 100;

/**
 * Parses one YAML document, keeping node positions so later checks can name
 * lines. Duplicate keys are errors (YAML 1.2 requires unique keys).
 * @throws GantryError CONFIG_INVALID `FILE:LINE: …` for a syntax error, a
 *   second document, or excessive alias expansion.
 */
export function readYamlFile(text: string, fileName: string): YamlFile {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = first.linePos?.[0].line ?? counter.linePos(first.pos[0]).line;
    const where = line === undefined ? fileName : `${fileName}:${line}`;
    throw new GantryError('CONFIG_INVALID', `${where}: invalid YAML: ${firstLine(first.message)}`, {
      cause: first,
      details: { file: fileName, ...(line === undefined ? {} : { line }), code: first.code },
    });
  }
  const locator = createYamlLocator({ doc, counter, fileName });
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount.
    if (!(err instanceof ReferenceError)) throw err;
    throw new GantryError('CONFIG_INVALID', `${fileName}: invalid YAML: ${firstLine(err.message)}`, { cause: err, details: { file: fileName } });
  }
  return { data, locator };
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).slice(0, 300);
}
