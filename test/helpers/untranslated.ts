/**
 * Finds user-facing English in a Svelte template that does not come from the catalogs through `t()`: text,
 * user-facing attributes (title, aria-label, placeholder, alt, …), sentence-like props passed to components, and
 * sentence-like string literals in template expressions. Technical tokens (SGDR, px, fast.ai, …) may stay.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'svelte/compiler';

/** Words that read the same in every language of the app. */
const TECHNICAL =
  /\b(?:SGDR|SGD|AdamW|Adam|LRs?|TTA|SWA|px|fast\.ai|fastai|JSON|PNG|JPEG|CSV|CLI|ms|s|min|h|GPU|CPU|wasm|uPlot|valley|steep|minDiv10|cycle_len|cycle_mult|lr_find2?|precompute|epochs?|K|ETA|ID|e\.g|vs|ok|OK|x|log|tfjs|MobileNet\w*|ImageNet|npm|Finetune Studio|FS)\b/g;

const USER_FACING_ATTRIBUTES = new Set(['title', 'aria-label', 'aria-description', 'placeholder', 'alt', 'label']);
const NOT_TEXT_PROPS =
  /^(?:class|style|id|for|type|name|role|href|src|lang|dir|testid|data-.*|kind|variant|tone|mode|key)$/;

export function svelteFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return svelteFiles(path);
    return name.endsWith('.svelte') ? [path] : [];
  });
}

function isWords(text: string): boolean {
  return /[A-Za-z]{2,}/.test(text.replace(TECHNICAL, ''));
}

function isSentence(text: string): boolean {
  const rest = text.replace(TECHNICAL, '');
  return /[A-Za-z]{2,}/.test(rest) && (/[A-Za-z]{2,}\s+[A-Za-z]{2,}/.test(rest) || /^[A-Z][a-z]/.test(rest.trim()));
}

type Node = { type?: string; [key: string]: unknown };

/** Every English piece of text a template shows without `t()`. */
export function untranslated(source: string): string[] {
  const ast = parse(source, { modern: true }) as unknown as { fragment: Node };
  const found: string[] = [];
  const visit = (node: unknown, parent: Node | null, attribute: string | null): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child, parent, attribute);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const n = node as Node;
    if (
      n.type === 'CallExpression' &&
      (n.callee as Node).type === 'Identifier' &&
      (n.callee as { name: string }).name === 't'
    )
      return; // a catalog key
    if (n.type === 'BinaryExpression' || n.type === 'ImportDeclaration') return; // comparisons with status codes
    if (n.type === 'Text' && parent?.type !== 'Attribute') {
      if (isWords(String(n.data))) found.push(String(n.data).trim());
      return;
    }
    if (n.type === 'Attribute') {
      const name = String(n.name);
      const isTextAttribute =
        USER_FACING_ATTRIBUTES.has(name) || (!NOT_TEXT_PROPS.test(name) && attribute !== 'element');
      const value = n.value;
      if (Array.isArray(value)) {
        for (const part of value as Node[]) {
          if (part.type !== 'Text') visit(part, n, null);
          else if (
            USER_FACING_ATTRIBUTES.has(name)
              ? isWords(String(part.data))
              : isTextAttribute && isSentence(String(part.data))
          )
            found.push(`${name}="${String(part.data)}"`);
        }
      } else visit(value, n, null);
      return;
    }
    if (n.type === 'Literal' && typeof n.value === 'string' && isSentence(n.value)) {
      found.push(`'${n.value}'`);
      return;
    }
    if (n.type === 'TemplateElement') {
      const raw = (n.value as { raw: string }).raw;
      if (isSentence(raw)) found.push(`\`${raw}\``);
      return;
    }
    const kind = n.type === 'RegularElement' ? 'element' : n.type === 'Component' ? 'component' : attribute;
    for (const [key, child] of Object.entries(n)) {
      if (key === 'type' || key === 'loc' || key === 'metadata' || key === 'name_loc') continue;
      if (key === 'attributes') {
        for (const a of child as Node[]) visit(a, n, kind === 'element' ? 'element' : 'component');
      } else visit(child, n, kind);
    }
  };
  visit(ast.fragment, null, null);
  return found;
}
