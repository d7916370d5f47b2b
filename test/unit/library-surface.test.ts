import { describe, expect, it } from 'vitest';
import * as gantry from '../../src/index.js';

describe('the library surface', () => {
  it('parses, selects and builds clients without the CLI', () => {
    const ref = gantry.parseReference('alpine:3.20');
    expect(gantry.formatReference(ref)).toBe('docker.io/library/alpine:3.20');
    expect(gantry.formatPlatform(gantry.parsePlatform('linux/arm64'))).toBe('linux/arm64/v8');
    expect(gantry.latestTag(['1.0.0', 'v1.2.0', 'latest'], {})).toBe('v1.2.0');
    expect(typeof gantry.createRegistryClient).toBe('function');
    expect(gantry.exitCodeFor('DIGEST_MISMATCH')).toBe(5);
  });
});
