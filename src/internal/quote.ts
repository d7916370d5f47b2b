const MAX_QUOTED = 120;

/**
 * Quote user input for a one-line error message: JSON escaping keeps control
 * characters and newlines out of the message, and long input is cut short so
 * a pasted blob cannot flood the terminal.
 */
export function quote(input: string): string {
  const shown = input.length > MAX_QUOTED ? `${input.slice(0, MAX_QUOTED)}…` : input;
  return JSON.stringify(shown);
}
