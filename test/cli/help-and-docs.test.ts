import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { runCli } from '../helpers/run-cli.js';

// Every command gantry registers has usable --help (a description and
// examples) and a page in docs/ that names each of its long options, and
// docs/README.md links every page. Commands and options are read from the
// program itself, so a new one without help or docs fails here.

const DOCS = new URL('../../docs/', import.meta.url);

interface Registered {
  /** The words that invoke it: ['tags'], ['manifest', 'get']. */
  path: string[];
  command: Command;
}

function registeredCommands(): { program: Command; commands: Registered[] } {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env: {} };
  const { program } = buildProgram(io, new AbortController().signal);
  const commands: Registered[] = [];
  const walk = (parent: Command, prefix: string[]): void => {
    for (const command of parent.commands) {
      const path = [...prefix, command.name()];
      commands.push({ path, command });
      walk(command, path);
    }
  };
  walk(program, []);
  return { program, commands };
}

function readDoc(page: string): string {
  return readFileSync(new URL(page, DOCS), 'utf8');
}

/** The long option as a whole word: `--password` is not mentioned by `--password-stdin`. */
function mentions(text: string, long: string): boolean {
  const escaped = long.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w-])${escaped}(?![\\w-])`).test(text);
}

/** The lines of the `Examples:` section of a help text, up to the next blank line. */
function examplesOf(help: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((line) => line === 'Examples:');
  if (start < 0) return [];
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => line.trim() === '');
  return end < 0 ? rest : rest.slice(0, end);
}

const { program, commands } = registeredCommands();

describe('the registered commands', () => {
  it('are found by walking the program, nested ones included', () => {
    const names = commands.map((c) => c.path.join(' '));
    expect(names).toEqual(expect.arrayContaining(['ref', 'login', 'logout', 'tags', 'digest', 'manifest', 'manifest get', 'inspect', 'catalog', 'ratelimit']));
  });
});

describe.each(commands.map((c) => [c.path.join(' '), c] as const))('gantry %s', (name, { path, command }) => {
  const page = `${path[0]}.md`;

  it('--help exits 0 with the description and an Examples: section that runs the command', async () => {
    const r = await runCli([...path, '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const description = command.description();
    expect(description.trim(), `${name} has no description`).not.toBe('');
    // commander wraps long descriptions; compare with the whitespace folded.
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(description.replace(/\s+/g, ' '));
    const examples = examplesOf(r.stdout);
    expect(examples.length, `gantry ${name} --help has no "Examples:" section`).toBeGreaterThan(0);
    expect(examples.join('\n')).toContain(`gantry ${name}`);
  });

  it(`has docs/${page}, which shows the command and mentions every long option`, () => {
    expect(existsSync(new URL(page, DOCS)), `docs/${page} is missing`).toBe(true);
    const doc = readDoc(page);
    expect(doc).toContain(`gantry ${name}`);
    const longs = command.options.map((o) => o.long).filter((long): long is string => long !== undefined);
    for (const long of longs) expect(mentions(doc, long), `docs/${page} does not mention ${long} of gantry ${name}`).toBe(true);
  });
});

describe('docs/README.md', () => {
  const readme = readDoc('README.md');
  const linked = new Set([...readme.matchAll(/\]\(([^)#\s]+\.md)(?:#[^)]*)?\)/g)].flatMap((m) => (m[1] === undefined ? [] : [m[1]])));

  it('links the page of every top-level command', () => {
    for (const top of program.commands) expect(linked.has(`${top.name()}.md`), `README.md does not link ${top.name()}.md`).toBe(true);
  });

  it('links every other page in docs/, and every link resolves', () => {
    const pages = readdirSync(DOCS).filter((f) => f.endsWith('.md') && f !== 'README.md');
    for (const page of pages) expect(linked.has(page), `README.md does not link ${page}`).toBe(true);
    for (const target of linked) expect(existsSync(new URL(target, DOCS)), `README.md links ${target}, which does not exist`).toBe(true);
  });

  it('mentions every global option', () => {
    const longs = program.options.map((o) => o.long).filter((long): long is string => long !== undefined);
    expect(longs.length).toBeGreaterThan(0);
    for (const long of longs) expect(mentions(readme, long), `README.md does not mention the global option ${long}`).toBe(true);
  });
});
