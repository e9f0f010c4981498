/**
 * The model formats an export can hold — TF.js (model.json + weights.bin, or an ensemble's members/) and ONNX
 * (model.onnx) — and how metadata.json and MODEL_CARD.md list them: each with its files, their sizes and sha256.
 */
import type { OnnxDescription } from './onnx/onnxModel';

export const EXPORT_FORMATS = ['tfjs', 'onnx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Both formats unless some are chosen; in the canonical order, without repeats. */
export function exportFormats(chosen: readonly ExportFormat[] | undefined): ExportFormat[] {
  if (chosen && chosen.length === 0) throw new Error('Choose at least one export format: tfjs, onnx.');
  return EXPORT_FORMATS.filter((f) => !chosen || chosen.includes(f));
}

/** `--format tfjs,onnx` → the formats; null names the first unknown one. */
export function parseExportFormats(text: string): { formats: ExportFormat[] } | { unknown: string } {
  const names = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.find((n) => !(EXPORT_FORMATS as readonly string[]).includes(n));
  if (unknown !== undefined || names.length === 0) return { unknown: unknown ?? text };
  return { formats: exportFormats(names as ExportFormat[]) };
}

export interface FileEntry {
  path: string;
  bytes: number;
  sha256: string;
}

export type FormatDescription =
  | { format: 'tfjs'; runtime: string; files: FileEntry[] }
  | ({ format: 'onnx'; runtime: string; files: FileEntry[] } & Omit<OnnxDescription, 'file'>);

/** The formats written, each with its files (from the writer's manifest). */
export function describeFormats(
  manifest: FileEntry[],
  tfjsFiles: string[],
  onnx: OnnxDescription | null,
): FormatDescription[] {
  const entries = (paths: string[]) => manifest.filter((f) => paths.includes(f.path));
  const out: FormatDescription[] = [];
  if (tfjsFiles.length) {
    out.push({ format: 'tfjs', runtime: 'TensorFlow.js 4 (layers model)', files: entries(tfjsFiles) });
  }
  if (onnx) {
    const { file, ...rest } = onnx;
    out.push({
      format: 'onnx',
      runtime: `ONNX Runtime 1.8 or later (opset ${onnx.opset})`,
      files: entries([file]),
      ...rest,
    });
  }
  return out;
}
