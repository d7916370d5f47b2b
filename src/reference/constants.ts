/** Docker Hub's canonical name in references (distribution/reference normalize.go). */
export const DOCKER_HUB = 'docker.io';

/** Docker Hub's legacy "Docker Index" name, normalized to `docker.io`. */
export const DOCKER_HUB_LEGACY = 'index.docker.io';

/** The host that actually serves Docker Hub's registry API. */
export const DOCKER_HUB_ENDPOINT = 'registry-1.docker.io';

/** The namespace of Docker Hub's official images: `alpine` is `library/alpine`. */
export const OFFICIAL_NAMESPACE = 'library/';

/** The tag docker pulls when a reference has neither tag nor digest. */
export const DEFAULT_TAG = 'latest';

/** Docker's limit on a repository path (distribution/reference RepositoryNameTotalLengthMax). */
export const MAX_REPOSITORY_LENGTH = 255;
