/**
 * Bidi isolates for text that mixes scripts. A number, an LR ("6.2e-3"), a path or a code name set inside an Arabic
 * sentence (or drawn on an LTR plot next to Arabic words) keeps its own order only as an isolate: without one, the
 * Unicode bidi algorithm binds "6.2" to the Arabic word beside it and shows "6.2 المختارe-3". Templates use
 * `<bdi dir="ltr">`; strings that end up in a canvas, a title or a catalog text use these control characters.
 */

/** LEFT-TO-RIGHT ISOLATE … POP DIRECTIONAL ISOLATE: `text` laid out left to right, as one unit. */
export function isolateLtr(text: string): string {
  return `\u2066${text}\u2069`;
}

/** FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE: `text` (a class or folder name, either script) as one unit. */
export function isolateAuto(text: string): string {
  return `\u2068${text}\u2069`;
}
