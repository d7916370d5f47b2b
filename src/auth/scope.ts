import type { Scope } from './types.js';

/*
 * Token scopes, from the distribution token spec (docs/spec/auth/scope.md):
 *
 *   scope          = resourcescope *( " " resourcescope )
 *   resourcescope  = resourcetype ":" resourcename ":" action *( "," action )
 *
 * The resource name may itself hold colons (a registry host with a port,
 * `localhost:5000/app`), so the type ends at the first colon and the actions
 * start after the last one.
 */

// Pull and push come first, in that order, as registries and docker write them.
const ACTION_RANK: Record<string, number> = { pull: 0, push: 1 };

function compareActions(a: string, b: string): number {
  const ra = ACTION_RANK[a] ?? 2;
  const rb = ACTION_RANK[b] ?? 2;
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Actions without duplicates or empty strings, `pull` then `push` then the rest by code point. */
export function normalizeActions(actions: Iterable<string>): string[] {
  return [...new Set(actions)].filter((a) => a !== '').sort(compareActions);
}

/**
 * `type:name:action,action`, actions in canonical order
 * (`repository:library/alpine:pull,push`).
 */
export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}:${normalizeActions(scope.actions).join(',')}`;
}

/**
 * Parses one resource scope (`repository:library/alpine:pull,push`,
 * `registry:catalog:*`, `repository:localhost:5000/app:pull`). Returns
 * undefined, never throws, when the text is not one: whitespace, an empty
 * type, name or action list.
 */
export function parseScope(text: string): Scope | undefined {
  if (/\s/.test(text)) return undefined;
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first <= 0 || last <= first + 1) return undefined;
  const actions = normalizeActions(text.slice(last + 1).split(','));
  if (actions.length === 0) return undefined;
  return { type: text.slice(0, first), name: text.slice(first + 1, last), actions };
}

/** Parses a space-separated list of scopes (a token request's `scope`), skipping entries that do not parse. */
export function parseScopes(text: string): Scope[] {
  return text
    .split(/\s+/)
    .map(parseScope)
    .filter((s): s is Scope => s !== undefined);
}

/**
 * Merges scopes naming the same resource (type and name) into one with the
 * union of their actions in canonical order. Resources keep the order of
 * their first appearance; the inputs are not modified.
 */
export function mergeScopes(scopes: readonly Scope[]): Scope[] {
  const merged = new Map<string, { type: string; name: string; actions: Set<string> }>();
  for (const scope of scopes) {
    // JSON of the pair is unambiguous whatever characters type and name hold.
    const key = JSON.stringify([scope.type, scope.name]);
    let entry = merged.get(key);
    if (entry === undefined) {
      entry = { type: scope.type, name: scope.name, actions: new Set() };
      merged.set(key, entry);
    }
    for (const action of scope.actions) entry.actions.add(action);
  }
  return [...merged.values()].map(({ type, name, actions }) => ({ type, name, actions: normalizeActions(actions) }));
}

/** The scope for actions on a repository: `repositoryScope('library/alpine', ['push', 'pull'])` → `repository:library/alpine:pull,push`. */
export function repositoryScope(repository: string, actions: readonly string[]): Scope {
  return { type: 'repository', name: repository, actions: normalizeActions(actions) };
}

/**
 * A cache key for a set of scopes: equal for sets that ask for the same
 * access whatever their order, duplicates or action order. The scopes are
 * merged, sorted by type then name, formatted and joined with spaces.
 */
export function scopeKey(scopes: readonly Scope[]): string {
  return mergeScopes(scopes)
    .sort((a, b) => (a.type === b.type ? compare(a.name, b.name) : compare(a.type, b.type)))
    .map(formatScope)
    .join(' ');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
