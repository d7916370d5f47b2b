import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { GantryError } from '../errors/index.js';

/** A path into the parsed file: `['sources', 1, 'semver']`. */
export type ConfigPath = ReadonlyArray<string | number>;

/** Finds the line of a path in a parsed YAML document, for error messages. */
export interface YamlLocator {
  readonly fileName: string;
  /**
   * The 1-based line of the value at `path`, or of its deepest existing
   * ancestor when the value is absent (a missing field points at its
   * parent); with `key`, the line of the last segment's key instead.
   */
  lineOf(path: ConfigPath, options?: { key?: boolean }): number | undefined;
  /** A CONFIG_INVALID error `mirror.yaml:12: sources[1].semver: must be a string`. */
  error(path: ConfigPath, message: string, options?: { key?: boolean; cause?: unknown; hint?: string }): GantryError;
}

/** `sources[1].semver`; the root is `(root)`. */
export function formatConfigPath(path: ConfigPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += /^[A-Za-z_][\w-]*$/.test(segment) ? (out === '' ? segment : `.${segment}`) : `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(root)' : out;
}

/** Splits an ajv `instancePath` (a JSON Pointer, RFC 6901) into segments; sequence indexes stay strings until located. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A locator over `doc`, whose offsets `counter` turned into lines while parsing. */
export function createYamlLocator(options: { doc: Document; counter: LineCounter; fileName: string }): YamlLocator {
  const { doc, counter, fileName } = options;
  const lineAt = (node: Node | null | undefined): number | undefined =>
    node?.range ? counter.linePos(node.range[0]).line : undefined;

  const lineOf = (path: ConfigPath, opts: { key?: boolean } = {}): number | undefined => {
    let node: unknown = doc.contents;
    let line = lineAt(doc.contents);
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      let next: unknown;
      let keyNode: unknown;
      if (isSeq(node)) {
        next = node.items[Number(segment)];
      } else if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : p.key) === String(segment));
        keyNode = pair?.key;
        next = pair?.value;
        if (pair !== undefined && opts.key === true && i === path.length - 1) return lineAt(keyNode as Node) ?? line;
      }
      // A key with an empty value (`semver:`) has a null value node; point at its key.
      const found = lineAt(next as Node) ?? lineAt(keyNode as Node);
      if (found === undefined) return line;
      line = found;
      node = next;
    }
    return line;
  };

  return {
    fileName,
    lineOf,
    error(path, message, opts = {}) {
      const line = lineOf(path, opts);
      const where = line === undefined ? fileName : `${fileName}:${line}`;
      const field = formatConfigPath(path);
      return new GantryError('CONFIG_INVALID', `${where}: ${field}: ${message}`, {
        ...(opts.hint === undefined ? {} : { hint: opts.hint }),
        ...(opts.cause === undefined ? {} : { cause: opts.cause }),
        details: { file: fileName, ...(line === undefined ? {} : { line }), field },
      });
    },
  };
}
