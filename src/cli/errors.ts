/** The one style of the command's error messages: `tether: <message>` on one line. */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `tether: ${message.split('\n')[0]}\n`;
}
