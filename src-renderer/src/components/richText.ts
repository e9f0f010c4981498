/**
 * Catalog messages may mark a few words with <strong>…</strong> or <code>…</code> (so that a translation can put
 * them where its word order needs them). This splits such a message into plain and marked runs for RichText.svelte,
 * which renders them as elements: no HTML is ever parsed from a catalog.
 */
export interface RichSegment {
  tag: 'strong' | 'code' | null;
  text: string;
}

const MARKED = /<(strong|code)>([\s\S]*?)<\/\1>/g;

export function richSegments(message: string): RichSegment[] {
  const out: RichSegment[] = [];
  let at = 0;
  for (const match of message.matchAll(MARKED)) {
    if (match.index > at) out.push({ tag: null, text: message.slice(at, match.index) });
    out.push({ tag: match[1] as 'strong' | 'code', text: match[2] ?? '' });
    at = match.index + match[0].length;
  }
  if (at < message.length) out.push({ tag: null, text: message.slice(at) });
  return out;
}
