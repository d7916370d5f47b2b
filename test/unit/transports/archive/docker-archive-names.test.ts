import { describe, expect, it } from 'vitest';
import { parseReference } from '../../../../src/reference/index.js';
import { dockerArchiveRepoTags } from '../../../../src/transports/archive/index.js';

describe('dockerArchiveRepoTags', () => {
  it('puts the bare tags of a registry or store image into the repository it came from, in familiar form', () => {
    expect(dockerArchiveRepoTags({ names: ['3.20', 'latest'] }, parseReference('docker.io/library/alpine'))).toEqual(['alpine:3.20', 'alpine:latest']);
    expect(dockerArchiveRepoTags({ names: ['1'] }, parseReference('localhost:5000/x'))).toEqual(['localhost:5000/x:1']);
    expect(dockerArchiveRepoTags({ names: ['v2'] }, parseReference('ghcr.io/org/app:v1'))).toEqual(['ghcr.io/org/app:v2']);
  });

  it('a bare tag with no repository (a layout ref.name like v1) names nothing', () => {
    expect(dockerArchiveRepoTags({ names: ['v1', 'latest'] })).toEqual([]);
  });

  it('keeps whole references (containerd and buildkit ref.names), adding latest when there is no tag', () => {
    expect(dockerArchiveRepoTags({ names: ['docker.io/library/alpine:3.20', 'example.com/team/app'] })).toEqual(['alpine:3.20', 'example.com/team/app:latest']);
    // A whole reference is its own name, whatever repository the source has.
    expect(dockerArchiveRepoTags({ names: ['example.com/other:1'] }, parseReference('localhost:5000/x'))).toEqual(['example.com/other:1']);
  });

  it('uses a docker archive’s references first and drops repeats', () => {
    expect(dockerArchiveRepoTags({ names: ['1', '2'], references: ['localhost:5000/x:1', 'docker.io/library/busybox:2'] }, parseReference('localhost:5000/x'))).toEqual([
      'localhost:5000/x:1',
      'busybox:2',
      'localhost:5000/x:2',
    ]);
  });

  it('drops digests, and names that are no reference, rather than failing the copy', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(dockerArchiveRepoTags({ names: [`example.com/app@${digest}`, `example.com/app:1@${digest}`, 'Not/A:Ref!', '-x'] })).toEqual(['example.com/app:1']);
  });
});
