/** A run of text from a search highlight; `marked` runs hold the words that matched. */
export type HighlightSegment = { text: string; marked: boolean };

// The server writes exactly `<b>` and `</b>` around matched words and escapes
// everything else, so only those two are markup; any other `<…>` cannot occur
// unescaped and is left as the text it is.
const TAG = /<(\/?)b>/g;

// What the cell's escaper (htmlescape's `encode_minimal`) writes — &amp; &lt;
// &gt; &quot; &#x27; — plus &#39;, &apos; and any numeric reference.
const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function codePoint(value: number): string | undefined {
  const surrogate = value >= 0xd800 && value <= 0xdfff;
  return value > 0 && value <= 0x10ffff && !surrogate ? String.fromCodePoint(value) : undefined;
}

/** Turns the entities the server writes back into characters, in one pass (`&amp;lt;` stays `&lt;`). */
export function unescapeHtml(text: string): string {
  return text.replace(ENTITY, (entity, decimal?: string, hex?: string, name?: string) => {
    if (name !== undefined) return NAMED[name] ?? entity;
    const value = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex ?? '', 16);
    return codePoint(value) ?? entity;
  });
}

/**
 * Splits a highlight (`Oxford <b>shirt</b> &amp; tie`) into plain and marked
 * runs of unescaped text, so it can be rendered without parsing HTML. Tags
 * are split off before entities are decoded, so an escaped `&lt;b&gt;` stays
 * text. A `</b>` with nothing open is dropped; a `<b>` never closed marks the
 * rest; nested ones mark until the outermost closes.
 */
export function splitHighlight(html: string): HighlightSegment[] {
  const segments: HighlightSegment[] = [];
  const push = (raw: string, marked: boolean) => {
    if (raw === '') return;
    const text = unescapeHtml(raw);
    const last = segments.at(-1);
    if (last && last.marked === marked) last.text += text;
    else segments.push({ text, marked });
  };
  let depth = 0;
  let from = 0;
  for (const match of html.matchAll(TAG)) {
    push(html.slice(from, match.index), depth > 0);
    from = match.index + match[0].length;
    depth = match[1] === '/' ? Math.max(0, depth - 1) : depth + 1;
  }
  push(html.slice(from), depth > 0);
  return segments;
}
