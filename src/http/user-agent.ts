/**
 * The User-Agent gantry sends: `gantry/<version> (node <version>; <os>)`.
 * Registries log it, and Docker Hub counts pulls by client in its reports.
 * A `product` that already holds a comment (`(…)`) is used as given.
 */
export function userAgent(product: string): string {
  if (product.includes('(')) return product;
  return `${product} (node ${process.versions.node}; ${process.platform})`;
}

/** The product token for a version: `gantry/0.1.0`. */
export function gantryProduct(version: string): string {
  return `gantry/${version}`;
}
