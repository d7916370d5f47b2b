import { describe, expect, it } from 'vitest';
import { createInsecurePolicy } from '../../../src/http/index.js';

describe('createInsecurePolicy', () => {
  it('marks nothing by default but lets loopback use plain HTTP, as docker', () => {
    const policy = createInsecurePolicy(undefined);
    expect(policy.isMarked('localhost:5000')).toBe(false);
    for (const host of ['localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) expect(policy.allowsPlainHttp(host)).toBe(true);
    for (const host of ['docker.io', 'ghcr.io', '10.0.0.1:5000', 'localhost.example.com']) expect(policy.allowsPlainHttp(host)).toBe(false);
  });

  it('marks every registry with true', () => {
    const policy = createInsecurePolicy(true);
    expect(policy.isMarked('ghcr.io')).toBe(true);
    expect(policy.allowsPlainHttp('ghcr.io')).toBe(true);
  });

  it('matches listed registries by host:port, a bare host matching any port', () => {
    const policy = createInsecurePolicy(['myreg.local', 'other:5000', 'http://Scheme.Example:8080/']);
    expect(policy.isMarked('myreg.local')).toBe(true);
    expect(policy.isMarked('myreg.local:5000')).toBe(true);
    expect(policy.isMarked('other:5000')).toBe(true);
    expect(policy.isMarked('other:5001')).toBe(false);
    expect(policy.isMarked('other')).toBe(false);
    expect(policy.isMarked('scheme.example:8080')).toBe(true);
    expect(policy.isMarked('myreg.local.evil.com')).toBe(false);
  });

  it('handles bracketed IPv6 entries', () => {
    const policy = createInsecurePolicy(['[fd00::1]']);
    expect(policy.isMarked('[fd00::1]:5000')).toBe(true);
    expect(policy.isMarked('[fd00::2]:5000')).toBe(false);
  });
});
