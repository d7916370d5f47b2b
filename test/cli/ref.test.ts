import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

describe('gantry ref', () => {
  it('prints exactly registry, repository, tag and digest with --json, null when absent', async () => {
    const r = await runCli(['ref', '--json', 'alpine']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ registry: 'docker.io', repository: 'library/alpine', tag: null, digest: null });
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(['registry', 'repository', 'tag', 'digest']);
  });

  it('keeps both tag and digest', async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const r = await runCli(['ref', '--json', `[::1]:5000/team/app:1.2@${digest}`]);
    expect(JSON.parse(r.stdout)).toEqual({ registry: '[::1]:5000', repository: 'team/app', tag: '1.2', digest });
  });

  it('shows the familiar and canonical forms to people', async () => {
    const r = await runCli(['ref', 'index.docker.io/library/alpine:3.20']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/familiar:\s+alpine:3\.20/);
    expect(r.stdout).toMatch(/canonical:\s+docker\.io\/library\/alpine:3\.20/);
  });

  it('rejects invalid input with exit 2, saying what and where', async () => {
    const r = await runCli(['ref', 'docker.io/Library/alpine']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: .*lowercase/m);
    // The caret sits under the offending character.
    const lines = r.stderr.split('\n');
    const inputLine = lines.findIndex((l) => l.trim() === 'docker.io/Library/alpine');
    expect(inputLine).toBeGreaterThan(0);
    expect(lines[inputLine + 1]?.indexOf('^')).toBe(lines[inputLine]!.indexOf('L'));
  });

  it('reports errors as JSON on stderr with --json', async () => {
    const r = await runCli(['ref', '--json', 'a//b']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr).error.code).toBe('REFERENCE_INVALID');
  });
});

describe('usage errors', () => {
  it('exit 2 for an unknown command or a missing argument', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    const r = await runCli(['ref']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument/);
  });

  it('gantry alone and gantry help CMD show help on stdout with exit 0', async () => {
    const alone = await runCli([]);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toMatch(/^Usage: gantry/);
    const help = await runCli(['help', 'tags']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: gantry tags/);
  });

  it('catalog refuses a repository path: it lists whole registries', async () => {
    const r = await runCli(['catalog', 'localhost:5000/team']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gantry tags/);
  });

  it('exit 0 for --help and --version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:/);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
