/** JSON read from disk or the network, checked against a zod schema instead of trusted with a cast. */
import { readFileSync } from 'node:fs';
import type { ZodType } from 'zod';

export type ParsedJson<T> = { ok: true; value: T } | { ok: false; syntax: boolean; issue: string };

/**
 * Parse `text` and validate it. On failure `syntax` tells a JSON syntax error from a schema mismatch, and `issue`
 * says what is wrong: the parser's message, or the first schema issue with its path.
 */
export function parseJson<T>(text: string, schema: ZodType<T>): ParsedJson<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, syntax: true, issue: (err as Error).message };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const [first, ...rest] = parsed.error.issues;
  const where = first?.path.length ? `${first.path.join('.')}: ` : '';
  const more = rest.length ? ` (and ${rest.length} more issue${rest.length === 1 ? '' : 's'})` : '';
  return { ok: false, syntax: false, issue: `${where}${first?.message ?? 'invalid'}${more}` };
}

/**
 * Read a JSON file the app wrote (run.json, checkpoints, settings, exports) and check it against its schema. A
 * missing, damaged or foreign file throws one message naming the file, what is wrong and `fix`.
 */
export function readJsonFile<T>(path: string, schema: ZodType<T>, fix: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`Cannot read ${path}: ${why}. ${fix}`, { cause: err });
  }
  const parsed = parseJson(text, schema);
  if (parsed.ok) return parsed.value;
  const what = parsed.syntax ? 'is not valid JSON' : 'does not have the expected content';
  throw new Error(`${path} ${what} (${parsed.issue}). ${fix}`);
}
