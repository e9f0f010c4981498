/** preprocessing.json of an export: the input both its TF.js and its ONNX model take, spelled out. */
import { BACKBONE_NAME, BACKBONE_NOTE } from '../model/backbone';
import { PREPROCESSING_NOTE } from '../data/images';

export interface Preprocessing {
  inputSize: number;
  shape: [number, number, number, number];
  dtype: 'float32';
  layout: 'NHWC';
  channels: 'RGB';
  scale: number;
  range: [number, number];
  resize: string;
  orientation: string;
  alpha: string;
  description: string;
  backbone: string;
  backboneNote: string;
}

export function preprocessingFor(size: number): Preprocessing {
  return {
    inputSize: size,
    shape: [-1, size, size, 3],
    dtype: 'float32',
    layout: 'NHWC',
    channels: 'RGB',
    scale: 1 / 255,
    range: [0, 1],
    resize: 'shorter side to inputSize (bilinear), centre crop to inputSize x inputSize',
    orientation: 'EXIF orientation applied',
    alpha: 'flattened on white',
    description: PREPROCESSING_NOTE,
    backbone: BACKBONE_NAME,
    backboneNote: BACKBONE_NOTE,
  };
}
