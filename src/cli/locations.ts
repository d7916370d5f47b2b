import { GantryError, isGantryError } from '../errors/index.js';
import { formatLocation, parseReference, type ImageLocation } from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import { createLocalStoreSource, createLocalStoreTarget, stateDir } from '../transports/local-store/index.js';
import { createOciLayoutSource, createOciLayoutTarget } from '../transports/oci-layout/index.js';
import { createRegistrySource, createRegistryTarget } from '../transports/registry/index.js';
import type { ImageSource, ImageTarget } from '../transports/types.js';
import type { CommandContext } from './context.js';

/**
 * The archive transports, loaded on first use: with their tar library they are
 * ~1 ms of every command's start, and most commands touch no archive.
 */
function archives(): Promise<typeof import('../transports/archive/index.js')> {
  return import('../transports/archive/index.js');
}

/** Open a location for reading. `allTags` reads every tag of a registry repository. */
export async function openSource(ctx: CommandContext, location: ImageLocation, options: { allTags?: boolean } = {}): Promise<ImageSource> {
  if (options.allTags && location.transport === 'registry' && (location.ref.tag || location.ref.digest)) {
    throw new GantryError('USAGE', '--all-tags copies every tag of a repository: name the source without a tag or digest', {
      hint: `e.g. ${formatLocation({ transport: 'registry', ref: { registry: location.ref.registry, repository: location.ref.repository } }, { familiar: true })}`,
    });
  }
  if (options.allTags && location.transport !== 'registry') {
    throw new GantryError('USAGE', `--all-tags reads every tag of a registry repository, not ${formatLocation(location)}`, {
      hint: 'for a layout or an archive, leave the tag out to copy every image in it',
    });
  }
  switch (location.transport) {
    case 'registry':
      return createRegistrySource(await ctx.client(), location.ref, { allTags: options.allTags === true, locations: ctx.blobLocations() });
    case 'oci':
      return createOciLayoutSource(location.path, location.tag ? { tag: location.tag } : {});
    case 'oci-archive':
      return (await archives()).createOciArchiveSource(location.path, location.tag ? { tag: location.tag } : {});
    case 'docker-archive':
      return (await archives()).createDockerArchiveSource(location.path, dockerArchiveSelection(location));
    case 'local':
      return createLocalStoreSource(ctx.io.env, withDefaultTag(location.ref));
  }
}

/** Open a location for writing. */
export async function openTarget(ctx: CommandContext, location: ImageLocation): Promise<ImageTarget> {
  switch (location.transport) {
    case 'registry':
      return createRegistryTarget(await ctx.client(), location.ref, {
        stateDir: stateDir(ctx.io.env),
        present: ctx.blobsPresent,
        locations: ctx.blobLocations(),
        ...(ctx.debugLog() ? { log: ctx.debugLog() } : {}),
      });
    case 'oci':
      return createOciLayoutTarget(location.path, location.tag ? { tag: location.tag } : {});
    case 'oci-archive':
      return (await archives()).createOciArchiveTarget(location.path, location.tag ? { tag: location.tag } : {});
    case 'docker-archive':
      if (location.index !== undefined) {
        throw new GantryError('USAGE', `${formatLocation(location)} selects an image to read: a destination cannot be @N`, {
          hint: 'write to docker-archive:FILE (each image keeps its names) or docker-archive:FILE:NAME:TAG',
        });
      }
      return (await archives()).createDockerArchiveTarget(location.path, location.ref ? { ref: familiarOf(location.ref) } : {});
    case 'local':
      return createLocalStoreTarget(ctx.io.env, location.ref);
  }
}

/**
 * The names to commit at a target for one source image: the target's own tag
 * when it names one; none when it names a digest; else the image's names at
 * the source, else `latest` (docker's default).
 */
export function targetNames(location: ImageLocation, sourceNames: string[]): string[] {
  const tags = sourceNames.map(tagOfName).filter((t): t is string => t !== undefined);
  const fallback = tags.length > 0 ? tags : ['latest'];
  switch (location.transport) {
    case 'registry':
    case 'local':
      if (location.ref.tag) return [location.ref.tag];
      return location.ref.digest ? [] : fallback;
    case 'oci':
    case 'oci-archive':
      return location.tag ? [location.tag] : fallback;
    case 'docker-archive':
      return location.ref?.tag ? [location.ref.tag] : fallback;
  }
}

const TAG = /^[\w][\w.-]{0,127}$/;

/** A layout's ref.name may be a bare tag (skopeo) or a whole reference (containerd, buildkit). */
function tagOfName(name: string): string | undefined {
  if (TAG.test(name)) return name;
  try {
    return parseReference(name).tag;
  } catch (err) {
    if (isGantryError(err, 'REFERENCE_INVALID')) return undefined;
    throw err;
  }
}

/** The image a docker-archive source names: `@N` (skopeo's form, the source reads it), a reference, or every image. */
function dockerArchiveSelection(location: Extract<ImageLocation, { transport: 'docker-archive' }>): { ref?: string } {
  if (location.index !== undefined) return { ref: `@${location.index}` };
  return location.ref ? { ref: familiarOf(location.ref) } : {};
}

function withDefaultTag(ref: Reference): Reference {
  return ref.tag || ref.digest ? ref : { ...ref, tag: 'latest' };
}

function familiarOf(ref: Reference): string {
  const tagged = withDefaultTag(ref);
  return `${tagged.registry}/${tagged.repository}${tagged.tag ? `:${tagged.tag}` : ''}`;
}
