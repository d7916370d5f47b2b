/** One command of the demo: what it shows, and the arguments after `gantry`. */
export interface DemoStep {
  title: string;
  argv: string[];
}

export interface DemoPlaces {
  /** The throwaway registry, `127.0.0.1:PORT`. */
  registry: string;
  /** The OCI layout the demo built, and the image's name in it. */
  layout: string;
  tag: string;
  /** A path for the docker-archive the demo writes. */
  archive: string;
}

/**
 * The walk through gantry's transfers, in order: each step relies on the
 * ones before it (the copy reads what the push wrote, the pull what the copy
 * wrote, and so on). The image is two platforms tagged `1.0`.
 */
export function demoSteps(places: DemoPlaces): DemoStep[] {
  const demo = `${places.registry}/demo/hello`;
  const team = `${places.registry}/team/hello`;
  const layout = `oci:${places.layout}:${places.tag}`;
  return [
    { title: 'Push the image, built as an OCI layout, to the registry under two tags', argv: ['push', layout, `${demo}:1.0`, '-t', 'latest'] },
    { title: "List the repository's tags", argv: ['tags', demo] },
    { title: 'Copy it to another repository of the same registry: blobs are mounted, no byte is sent', argv: ['copy', `${demo}:1.0`, `${team}:1.0`] },
    { title: 'Push it again: every blob is already there, so nothing moves', argv: ['push', layout, `${demo}:1.0`] },
    { title: "Pull it into gantry's local store (a temporary one, for the demo)", argv: ['pull', `${team}:1.0`] },
    { title: 'List the local store', argv: ['images'] },
    {
      title: 'Tag a release in the registry, with its semver aliases; no layer moves',
      argv: ['tag', '--semver-aliases', `${team}:1.0`, '1.0.0'],
    },
    { title: 'The tags now', argv: ['tags', team] },
    {
      title: 'Save one platform from the local store as a docker-archive, the tar `docker load` reads',
      argv: ['copy', '--platform', 'linux/amd64', `local:${team}:1.0`, `docker-archive:${places.archive}`],
    },
    { title: 'Remove the image from the local store, with the blobs nothing else uses', argv: ['rmi', `${team}:1.0`] },
  ];
}

/** A command line as a user would type it into a POSIX shell: words quoted only where the shell needs it. */
export function commandLine(argv: readonly string[]): string {
  return ['gantry', ...argv].map(shellWord).join(' ');
}

function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
