import { describe, expect, it } from 'vitest';
import { parseImageArgument, parseRepositoryArgument } from '../../src/cli/image-argument.js';
import { parseReference, parseRepository } from '../../src/reference/index.js';

describe('image arguments of single-place commands', () => {
  it('registry commands take docker://REF as REF (skopeo spells it so)', () => {
    expect(parseImageArgument('docker://alpine:3.20', 'registry')).toEqual(parseReference('alpine:3.20'));
    expect(parseImageArgument('localhost:5000/app@sha256:' + 'a'.repeat(64), 'registry')).toEqual(parseReference('localhost:5000/app@sha256:' + 'a'.repeat(64)));
    expect(parseRepositoryArgument('docker://ghcr.io/org/app', 'registry')).toEqual(parseRepository('ghcr.io/org/app'));
  });

  it('a registry host named local with a port stays a registry for registry commands', () => {
    expect(parseImageArgument('local:5000/app:1', 'registry')).toMatchObject({ registry: 'local:5000', repository: 'app', tag: '1' });
  });

  it('local-store commands take local:REF as REF and refuse docker:// with a hint', () => {
    expect(parseImageArgument('local:alpine:3.20', 'local')).toEqual(parseReference('alpine:3.20'));
    expect(() => parseImageArgument('docker://alpine:3.20', 'local')).toThrow(expect.objectContaining({ code: 'USAGE', hint: expect.stringContaining('pull') }));
  });

  it('still reports a bad reference with its position', () => {
    expect(() => parseImageArgument('docker://Alpine', 'registry')).toThrow(expect.objectContaining({ code: 'REFERENCE_INVALID' }));
  });
});
