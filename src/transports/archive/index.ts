export { createOciArchiveSource, type OciArchiveSourceOptions } from './oci-archive-source.js';
export { createOciArchiveTarget, type OciArchiveTargetOptions } from './oci-archive-target.js';
export { createDockerArchiveSource, type DockerArchiveSourceOptions } from './docker-archive-source.js';
export { createDockerArchiveTarget, type DockerArchiveTargetOptions } from './docker-archive-target.js';
export { dockerArchiveRepoTags } from './docker-archive-names.js';
