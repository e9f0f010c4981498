/**
 * User text (class names, folder and file names, warnings) in the export's README.md and MODEL_CARD.md: it renders
 * as the same text in any Markdown viewer, never as HTML, a link, an image, emphasis or a table cell break.
 */

/** Control characters (a newline in a folder name would end a heading or a table row): a visible replacement. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '|': '&#124;' };

/**
 * Plain text: HTML's special characters and the pipe (which splits a table cell even inside other inline markup) as
 * entities, the punctuation that makes emphasis, code, links and images backslash-escaped anywhere, and what starts
 * a heading or a list escaped at the start.
 */
export function mdText(s: string): string {
  return s
    .replace(CONTROL, '\uFFFD')
    .replace(/[&<>"|]/g, (ch) => ENTITIES[ch]!)
    .replace(/[\\`*_[\]()!~]/g, (ch) => `\\${ch}`)
    .replace(/^([#+\-=]|\d+(?=[.)]))/, (m) => (/\d/.test(m) ? `${m}\\` : `\\${m}`));
}

/**
 * A code span holding `s` exactly: fenced by one backtick more than its longest run of backticks, padded when it
 * starts or ends with one (CommonMark). Inside a code span HTML and Markdown are shown, not rendered. In a table its
 * pipes still need escaping (GFM splits cells first): `table` in modelCard.ts does that for every cell.
 */
export function mdCode(s: string): string {
  const text = s.replace(CONTROL, '\uFFFD');
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || text.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}
