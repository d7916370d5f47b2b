export { semverOf, compareTagVersions, type TagVersion, type TagVersionOptions } from './tag-version.js';
export { sortTags, type TagSortOrder } from './sort-tags.js';
export { filterTags, latestTag, type FilterTagsOptions } from './filter-tags.js';
