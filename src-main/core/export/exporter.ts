/**
 * Export: a folder anyone can load with TensorFlow.js — model.json + weights.bin (the whole classifier, image
 * in, probabilities out), labels.json, and preprocessing.json describing the input the model expects.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKBONE_NAME, BACKBONE_NOTE } from '../model/backbone';
import { PREPROCESSING_NOTE } from '../data/images';
import { WEIGHTS_FILE } from '../model/modelFiles';
import { readRunEnsemble, readRunMeta } from '../runFiles';

export interface Preprocessing {
  inputSize: number;
  layout: 'NHWC';
  channels: 'RGB';
  scale: number;
  range: [number, number];
  resize: string;
  description: string;
  backbone: string;
  backboneNote: string;
}

export function preprocessingFor(size: number): Preprocessing {
  return {
    inputSize: size,
    layout: 'NHWC',
    channels: 'RGB',
    scale: 1 / 255,
    range: [0, 1],
    resize: 'shorter side to inputSize (bilinear), centre crop to inputSize x inputSize',
    description: PREPROCESSING_NOTE,
    backbone: BACKBONE_NAME,
    backboneNote: BACKBONE_NOTE,
  };
}

export function exportRun(runId: number, runDir: string, outDir: string): { dir: string; files: string[] } {
  const modelDir = join(runDir, 'model');
  if (!existsSync(join(modelDir, 'model.json'))) {
    throw new Error(`Run ${runId} has no saved model: only completed runs can be exported.`);
  }
  const meta = readRunMeta(runDir);
  mkdirSync(outDir, { recursive: true });
  for (const f of ['model.json', WEIGHTS_FILE]) copyFileSync(join(modelDir, f), join(outDir, f));
  writeFileSync(join(outDir, 'labels.json'), JSON.stringify(meta.classes, null, 2));
  writeFileSync(join(outDir, 'preprocessing.json'), JSON.stringify(preprocessingFor(meta.size), null, 2));
  writeFileSync(
    join(outDir, 'metadata.json'),
    JSON.stringify(
      { runId, exportedAt: new Date().toISOString(), backboneId: meta.backboneId, config: meta.config },
      null,
      2,
    ),
  );
  return { dir: outDir, files: ['model.json', WEIGHTS_FILE, 'labels.json', 'preprocessing.json', 'metadata.json'] };
}

/**
 * Export a recipe run's snapshot ensemble: one model folder per SGDR snapshot under `members/`, and
 * `ensemble.json` saying how to combine them (the mean of their probabilities). `finetune predict` reads it.
 */
export function exportEnsemble(runId: number, runDir: string, outDir: string): { dir: string; files: string[] } {
  const info = readRunEnsemble(runDir);
  if (!info) throw new Error(`Run ${runId} has no snapshot ensemble: only completed eight-step runs do.`);
  const meta = readRunMeta(runDir);
  const files: string[] = [];
  const members = info.snapshots.map((rel, i) => {
    const member = join('members', String(i));
    mkdirSync(join(outDir, member), { recursive: true });
    for (const f of ['model.json', WEIGHTS_FILE]) {
      copyFileSync(join(runDir, rel, f), join(outDir, member, f));
      files.push(join(member, f));
    }
    return member;
  });
  writeFileSync(join(outDir, 'labels.json'), JSON.stringify(meta.classes, null, 2));
  writeFileSync(join(outDir, 'preprocessing.json'), JSON.stringify(preprocessingFor(meta.size), null, 2));
  writeFileSync(
    join(outDir, 'ensemble.json'),
    JSON.stringify({ combine: 'mean of probabilities', members, validAccuracy: info.validAccuracy, runId }, null, 2),
  );
  return { dir: outDir, files: [...files, 'labels.json', 'preprocessing.json', 'ensemble.json'] };
}
