/**
 * What every `finetune` command shares: the output sinks, the usage error (main.ts prints it as one line and exits
 * 2), strict option parsing, and option values checked against the contract's schemas (src-shared/contract.ts), so
 * the limits of a flag are the limits the app itself accepts and are written down once.
 */
import { englishText, messageOf } from '../../src-shared/messages';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { TrainingSchedule } from '../../src-shared/contract';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** A mistake on the command line: main.ts prints `finetune COMMAND: message` and exits 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The options every command but `schedule` takes. */
export const COMMON_OPTIONS = {
  home: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies Options;

/** `{ a: { type: 'string' }, b: { type: 'string' } }` for `stringOptions('a', 'b')`: flags that take a value. */
export function stringOptions<const N extends string>(...names: N[]): { [K in N]: { type: 'string' } } {
  return Object.fromEntries(names.map((n) => [n, { type: 'string' }])) as { [K in N]: { type: 'string' } };
}

/** A number as written in decimal: `3`, `-1`, `0.5`, `.5`, `1e-3`. Not `0x10`, `0b1`, `Infinity` or `` (all of which
 * `Number()` takes). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * `--lr -1` as `--lr=-1`: after a flag that takes a value, a negative number is that value (parseArgs would call it
 * "ambiguous"), so the flag's own check can say what it accepts.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg === '--') return out.concat(argv.slice(i));
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : null;
    if (name && options[name]?.type === 'string' && next?.startsWith('-') && DECIMAL.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Strict `parseArgs`; an unknown or malformed flag (or a stray argument, without positionals) is a UsageError. */
export function parseOptions<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals, strict: true });
  } catch (err) {
    const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(err instanceof Error ? err.message : '');
    if (ambiguous) {
      const flag = ambiguous[1]!;
      throw new UsageError(`${flag} needs a value; to give one that starts with "-", write ${flag}=VALUE`);
    }
    throw new UsageError(firstLine(err));
  }
}

/** An error's one line for the terminal: a coded message in the CLI's wording (its flags, not the app's controls). */
export function firstLine(err: unknown): string {
  const coded = messageOf(err);
  const text = coded ? englishText(coded, 'cli') : err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!;
}

/** A contract schema for a number, possibly optional or nullable (e.g. `RecipeConfig.shape.lrFindAllIters`). */
type NumberSchema = z.ZodType<number | null | undefined>;

/** For options the contract does not cover. */
export const NUMBER = z.number();
export const INTEGER = z.number().int();

function numberCore(schema: NumberSchema): z.ZodNumber {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault)
    s = s.unwrap() as z.ZodType;
  if (!(s instanceof z.ZodNumber)) throw new TypeError('not a number schema');
  return s;
}

/** "an integer >= 1 and <= 1000", "a number > 0 and <= 10": what the schema accepts, in words. */
export function describeNumber(schema: NumberSchema): string {
  const n = numberCore(schema);
  const bounds: string[] = [];
  const bound = (value: number | null, op: '>' | '<') => {
    if (value === null || !Number.isFinite(value) || Math.abs(value) >= Number.MAX_SAFE_INTEGER) return;
    bounds.push(`${op}${n.safeParse(value).success ? '=' : ''} ${value}`);
  };
  bound(n.minValue, '>');
  bound(n.maxValue, '<');
  return `${n.isInt ? 'an integer' : 'a number'}${bounds.length ? ` ${bounds.join(' and ')}` : ''}`;
}

/** `--name VALUE` as a number the schema accepts; `fallback` (unchecked) when the flag is absent. */
export function num(raw: string | undefined, name: string, schema: NumberSchema, fallback: number): number;
export function num(raw: string | undefined, name: string, schema: NumberSchema): number | undefined;
export function num(raw: string | undefined, name: string, schema: NumberSchema, fallback?: number) {
  if (raw === undefined) return fallback;
  const x = DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
  if (!schema.safeParse(x).success) throw new UsageError(`--${name} must be ${describeNumber(schema)}, got "${raw}"`);
  return x;
}

/** "a", "a or b", "a, b or c". */
export function orList(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** `--name VALUE` as one of `allowed` (e.g. a contract enum's `.options`); `fallback` when the flag is absent. */
export function oneOf<T extends string>(raw: string | undefined, name: string, allowed: readonly T[], fallback: T): T;
export function oneOf<T extends string>(raw: string | undefined, name: string, allowed: readonly T[]): T | undefined;
export function oneOf<T extends string>(raw: string | undefined, name: string, allowed: readonly T[], fallback?: T) {
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw))
    throw new UsageError(`--${name} must be ${orList(allowed)}, got "${raw}"`);
  return raw as T;
}

/** A whole config against its schema, for what single flags cannot show; the first problem names its flag. */
export function checkConfig<S extends z.ZodType>(schema: S, config: unknown): z.infer<S> {
  const parsed = schema.safeParse(config);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const flag = String(issue.path[0] ?? 'config').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  throw new UsageError(`--${flag}: ${issue.message}`);
}

/** A run id given as the command's first argument (digits only: not `0x10`). */
export function runIdArg(raw: string | undefined, usage: string): number {
  const runId = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(runId)) throw new UsageError(usage);
  return runId;
}

/** `--port`: 0 (any free port) to 65535. */
export const PORT = z.number().int().min(0).max(65535);

type ScheduleSchema = (typeof TrainingSchedule.options)[number];
type SgdrSchema = Extract<ScheduleSchema, { shape: { kind: z.ZodLiteral<'sgdr'> } }>;

/** The contract's SGDR member of `TrainingSchedule` (its fields bound --cycle-len, --cycle-mult, --cycles). */
export const SGDR_SCHEDULE = TrainingSchedule.options.find((o): o is SgdrSchema => o.shape.kind.value === 'sgdr')!;

/** constant, sgdr, onecycle, cyclic: the kinds of `TrainingSchedule`, in the contract's order. */
export const TRAINING_SCHEDULE_KINDS = TrainingSchedule.options.map((o) => o.shape.kind.value);
