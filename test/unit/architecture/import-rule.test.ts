import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The import rule of docs/architecture.md (and ../shared/ARCHITECTURE.md): a
// layer imports only layers of a lower rank; siblings of one rank do not
// import each other. This test is the rule's enforcement.
const RANK: Record<string, number> = {
  errors: 0,
  internal: 1,
  digest: 2,
  reference: 3,
  media: 3,
  tags: 3,
  credentials: 4,
  auth: 5,
  http: 6,
  registry: 7,
  transports: 8,
  transfer: 9,
  mirror: 10,
  cli: 11,
  '.': 12, // src/index.ts, the library surface
};

/** Packages allowed only in some layers; anything else is a node built-in or allowed everywhere. */
const PACKAGE_HOME: Record<string, string[]> = {
  commander: ['cli'],
  chalk: ['cli'],
  ora: ['cli'],
  'cli-table3': ['cli'],
  undici: ['http'],
  '@napi-rs/keyring': ['credentials'],
  semver: ['tags', 'cli'],
  'tar-stream': ['transports'],
  'cli-progress': ['cli'],
  yaml: ['mirror'],
  ajv: ['mirror'],
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const srcDir = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function layerOf(file: string): string {
  const rel = relative(srcDir, file).split(sep);
  return rel.length === 1 ? '.' : (rel[0] as string);
}

interface Edge {
  from: string;
  to: string;
  spec: string;
}

function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

const files = sourceFiles(srcDir);
const edges: Edge[] = [];
const packages: Array<{ file: string; pkg: string }> = [];
for (const file of files) {
  for (const spec of importsOf(file)) {
    if (spec.startsWith('.')) {
      edges.push({ from: file, to: resolve(dirname(file), spec).replace(/\.js$/, '.ts'), spec });
    } else if (!spec.startsWith('node:')) {
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
      packages.push({ file, pkg });
    }
  }
}

describe('the import rule', () => {
  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('every layer is known', () => {
    const unknown = [...new Set(files.map(layerOf))].filter((l) => !(l in RANK));
    expect(unknown, 'add new layers to RANK and to the architecture document').toEqual([]);
  });

  it('layers import only lower layers', () => {
    const violations = edges
      .filter((e) => layerOf(e.from) !== layerOf(e.to))
      .filter((e) => (RANK[layerOf(e.to)] as number) >= (RANK[layerOf(e.from)] as number))
      .map((e) => `${relative(root, e.from)} imports ${e.spec} (${layerOf(e.from)} → ${layerOf(e.to)})`);
    expect(violations).toEqual([]);
  });

  it('only transports/registry talks to the registry layer below the CLI', () => {
    const violations = edges
      .filter((e) => layerOf(e.to) === 'registry' && ['transports', 'transfer', 'mirror'].includes(layerOf(e.from)))
      .filter((e) => !relative(srcDir, e.from).startsWith(join('transports', 'registry') + sep))
      .map((e) => `${relative(root, e.from)} imports ${e.spec}`);
    expect(violations).toEqual([]);
  });

  it('transfer and mirror see transports only through their interfaces', () => {
    // They may use the contracts (transports/types.ts), never a concrete transport,
    // and none of credentials, auth, http or registry: the CLI wires those in.
    const forbidden = new Set(['credentials', 'auth', 'http', 'registry']);
    const violations = edges
      .filter((e) => ['transfer', 'mirror'].includes(layerOf(e.from)))
      .filter((e) => forbidden.has(layerOf(e.to)) || (layerOf(e.to) === 'transports' && relative(srcDir, e.to) !== join('transports', 'types.ts')))
      .map((e) => `${relative(root, e.from)} imports ${e.spec}`);
    expect(violations).toEqual([]);
  });

  it('packages stay in their layers', () => {
    const violations = packages
      .filter(({ file, pkg }) => PACKAGE_HOME[pkg] && !PACKAGE_HOME[pkg].includes(layerOf(file)))
      .map(({ file, pkg }) => `${relative(root, file)} imports ${pkg}`);
    expect(violations).toEqual([]);
  });

  it('every imported package is a declared dependency', () => {
    const pkgJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const declared = new Set([...Object.keys(pkgJson.dependencies ?? {}), ...Object.keys(pkgJson.optionalDependencies ?? {})]);
    const undeclared = [...new Set(packages.map((p) => p.pkg))].filter((p) => !declared.has(p));
    expect(undeclared).toEqual([]);
  });

  it('has no import cycles between files', () => {
    const graph = new Map<string, string[]>();
    for (const e of edges) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (node: string, path: string[]): void => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(node)), node].map((f) => relative(root, f)).join(' → '));
        return;
      }
      state.set(node, 'visiting');
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
      state.set(node, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('console and process.exit appear only in cli/main.ts', () => {
    const offenders = files
      .filter((f) => relative(srcDir, f) !== join('cli', 'main.ts'))
      .filter((f) => /\bconsole\.|process\.exit\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });
});
