/**
 * Messages as data. The core raises errors (and will emit notes and warnings) as a code with parameters; each face
 * renders them in its user's language: the CLI in English from `en.json` here, the renderer from its i18next
 * catalogs (`messages` namespace: this English file and `ar.json` beside it), the main process's notifications from
 * both. A unit test fails when a code lacks a text in either language or the placeholders differ.
 *
 * Where the app and the CLI must word a message differently (the app's controls, the CLI's flags), the CLI's text is
 * a sibling key with the suffix `_cli`; the plain key is the app's.
 */
import { z } from 'zod';
import en from './en.json';

type Leaves<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${Prefix}${K}` : Leaves<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

type PluralForm = 'zero' | 'one' | 'two' | 'few' | 'many' | 'other';
/** `tooFewClasses_one` and `tooFewClasses_other` are one code, `tooFewClasses`. */
type WithoutPlural<K extends string> = K extends `${infer Base}_${PluralForm}` ? Base : K;

/** Every message code, e.g. `scan.folderNotFound` (`_cli` variants and plural forms are not codes of their own). */
export type MessageCode = Exclude<WithoutPlural<Leaves<typeof en>>, `${string}_cli`>;
export type MessageParams = Record<string, string | number>;

export interface Message {
  code: MessageCode;
  params: MessageParams;
}

export const ENGLISH_MESSAGES = en;

/** A message on the wire (error replies): checked as data; an unknown code renders as the code itself. */
export const MessageSchema = z.object({
  code: z.string().max(200),
  params: z.record(z.string(), z.union([z.string(), z.number()])),
});

function lookupNode(catalog: unknown, key: string): unknown {
  let node: unknown = catalog;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function lookup(catalog: unknown, key: string): string | undefined {
  const node = lookupNode(catalog, key);
  return typeof node === 'string' ? node : undefined;
}

/** `{{name}}` placeholders filled from `params` (i18next's syntax, so both faces read the same catalogs). */
export function interpolate(template: string, params: MessageParams): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

const englishPlural = new Intl.PluralRules('en');

/**
 * The English text of a message: the CLI's wording (`_cli`) where `face` is 'cli' and there is one; with a numeric
 * `count`, its plural form (`_one`, `_other`) as i18next picks it.
 */
export function englishText(message: Message, face: 'app' | 'cli' = 'app'): string {
  const { count } = message.params;
  const forms = typeof count === 'number' ? [`_${englishPlural.select(count)}`, ''] : [''];
  const keys = (face === 'cli' ? [`${message.code}_cli`, message.code] : [message.code]).flatMap((k) =>
    forms.map((f) => k + f),
  );
  const template = keys.map((k) => lookup(en, k)).find((t) => t !== undefined) ?? message.code;
  return interpolate(template, message.params);
}

const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The message an English text was made from, for texts stored before they were kept as codes (a run's backend note
 * in the history): the first text under `namespace` (e.g. 'backend') whose template matches all of `text`, its
 * placeholders read back (`count` as a number). Null when none matches.
 */
export function messageFromEnglish(text: string, namespace: string): Message | null {
  const texts = lookupNode(en, namespace);
  if (typeof texts !== 'object' || texts === null) return null;
  for (const [key, template] of Object.entries(texts as Record<string, unknown>)) {
    if (typeof template !== 'string' || key.endsWith('_cli')) continue;
    const names: string[] = [];
    const pattern = escapeRegExp(template).replace(/\\\{\\\{\s*(\w+)\s*\\\}\\\}/g, (_, name: string) => {
      names.push(name);
      return '(.+?)';
    });
    const match = new RegExp(`^${pattern}$`).exec(text);
    if (!match) continue;
    const params: MessageParams = {};
    names.forEach((name, i) => {
      const value = match[i + 1]!;
      params[name] = name === 'count' && /^\d+$/.test(value) ? Number(value) : value;
    });
    return { code: `${namespace}.${key.replace(PLURAL_SUFFIX, '')}` as MessageCode, params };
  }
  return null;
}

/** An error that carries its message as data; `.message` is the app's English text, for logs and old callers. */
export class CodedError extends Error {
  constructor(
    readonly code: MessageCode,
    readonly params: MessageParams = {},
  ) {
    super(englishText({ code, params }));
    this.name = 'CodedError';
  }

  get coded(): Message {
    return { code: this.code, params: this.params };
  }
}

/** The message an unknown thrown value carries, if it carries one. */
export function messageOf(err: unknown): Message | null {
  return err instanceof CodedError ? err.coded : null;
}
