/**
 * Text from the network, made safe to print on a terminal: control characters (C0, DEL,
 * C1) and the Unicode direction overrides are shown as escapes (\n, \x1b, \u202e) instead of
 * being interpreted, so a server cannot move the cursor, recolour the terminal or disguise
 * what it sent.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    switch (c) {
      case '\n': return '\\n';
      case '\r': return '\\r';
      case '\t': return '\\t';
    }
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
