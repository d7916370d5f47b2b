/**
 * The JSON Schema (draft-07) of `mirror.yaml`, checked with ajv before the
 * file is normalized into a `MirrorSpec`. Things a schema cannot say well
 * (regexes compile, references parse, a destination names either a
 * repository or a registry) are checked by `parseMirrorConfig` afterwards.
 */
const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

const destination = {
  type: 'object',
  additionalProperties: false,
  properties: {
    repository: { type: 'string', minLength: 1 },
    registry: { type: 'string', minLength: 1 },
    prefix: { type: 'string', minLength: 1 },
    rename: { type: 'string', minLength: 1 },
  },
} as const;

const source = {
  type: 'object',
  additionalProperties: false,
  required: ['repository', 'destinations'],
  properties: {
    repository: { type: 'string', minLength: 1 },
    tags: stringList,
    semver: { type: 'string', minLength: 1 },
    include: stringList,
    exclude: stringList,
    latest: { type: 'integer', minimum: 1 },
    platforms: stringList,
    includePrerelease: { type: 'boolean' },
    destinations: { type: 'array', minItems: 1, items: destination },
  },
} as const;

const registryLimits = {
  type: 'object',
  additionalProperties: false,
  properties: {
    connections: { type: 'integer', minimum: 1 },
    rps: { type: 'number', exclusiveMinimum: 0 },
  },
} as const;

export const mirrorSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'gantry mirror file',
  type: 'object',
  additionalProperties: false,
  required: ['sources'],
  properties: {
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: {
        platforms: stringList,
        concurrency: { type: 'integer', minimum: 1 },
        skipExisting: { type: 'boolean' },
        prune: { type: 'boolean' },
        includePrerelease: { type: 'boolean' },
        registries: { type: 'object', additionalProperties: registryLimits },
      },
    },
    sources: { type: 'array', minItems: 1, items: source },
  },
} as const;

/** The raw shapes the schema admits, before normalization. */
export interface RawDestination {
  repository?: string;
  registry?: string;
  prefix?: string;
  rename?: string;
}

export interface RawSource {
  repository: string;
  tags?: string[];
  semver?: string;
  include?: string[];
  exclude?: string[];
  latest?: number;
  platforms?: string[];
  includePrerelease?: boolean;
  destinations: RawDestination[];
}

export interface RawMirrorFile {
  defaults?: {
    platforms?: string[];
    concurrency?: number;
    skipExisting?: boolean;
    prune?: boolean;
    includePrerelease?: boolean;
    registries?: Record<string, { connections?: number; rps?: number }>;
  };
  sources: RawSource[];
}
