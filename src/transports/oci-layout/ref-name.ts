import { GantryError } from '../../errors/index.js';

// image-spec annotations.md, org.opencontainers.image.ref.name:
//   ref       ::= component ("/" component)*
//   component ::= alphanum (separator alphanum)*
//   separator ::= [-._:@+] | "--"
const COMPONENT = '[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*';
const REF_NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);

/** True when `name` fits the image-spec grammar for `org.opencontainers.image.ref.name`. */
export function isValidRefName(name: string): boolean {
  return name.length <= 1024 && REF_NAME.test(name);
}

/**
 * Check a name for an index.json entry.
 *
 * @throws GantryError USAGE when it does not fit the image-spec grammar.
 */
export function checkRefName(name: string): string {
  if (!isValidRefName(name)) {
    throw new GantryError('USAGE', `invalid image name ${JSON.stringify(name.slice(0, 200))} for an OCI layout`, {
      hint: 'Names in an OCI layout are tags like v1.2 or references like example.com/app:1 (letters, digits and -._:@+ between them).',
    });
  }
  return name;
}
