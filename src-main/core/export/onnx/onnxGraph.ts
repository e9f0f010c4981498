/**
 * A small builder for one ONNX graph, encoded with protobufjs against the official onnx.proto (onnxSchema.ts is its
 * descriptor): nodes in the order they are added (the converter adds them in topological order), float32 and int64
 * initializers as raw little-endian bytes, and a ModelProto with one opset import. Nothing is written by hand.
 */
import protobuf from 'protobufjs';
import { ONNX_SCHEMA } from './onnxSchema';

/** ONNX Runtime 1.8 and later, and the mobile runtimes (ORT Mobile, ORT Web), read opset 13; IR version 7 is its. */
export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 7;

const root = protobuf.Root.fromJSON(ONNX_SCHEMA as unknown as protobuf.INamespace);
const ModelProto = root.lookupType('onnx.ModelProto');

/** onnx.proto's TensorProto.DataType and AttributeProto.AttributeType values that the export uses. */
const FLOAT = 1;
const INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

export type Attribute = { int: number } | { ints: number[] } | { float: number } | { string: string };

interface NodeProto {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: object[];
}

interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

/** A dimension: a number, or a name for one the caller chooses (the batch). */
export type Dim = number | string;

function attributeProto(name: string, a: Attribute): object {
  if ('int' in a) return { name, type: ATTR.INT, i: a.int };
  if ('ints' in a) return { name, type: ATTR.INTS, ints: a.ints };
  if ('float' in a) return { name, type: ATTR.FLOAT, f: a.float };
  return { name, type: ATTR.STRING, s: new TextEncoder().encode(a.string) };
}

function valueInfo(name: string, dims: Dim[]): object {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim } } } };
}

export class OnnxGraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();

  /** A fresh value name from `base` (members of an ensemble repeat their layer names). */
  unique(base: string): string {
    let name = base;
    for (let i = 2; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** A float32 initializer, row-major in `dims`; returns its name. */
  floats(base: string, dims: number[], values: Float32Array): string {
    if (values.length !== dims.reduce((n, d) => n * d, 1)) throw new Error(`${base}: ${values.length} values`);
    const name = this.unique(base);
    const rawData = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    this.initializers.push({ name, dims, dataType: FLOAT, rawData });
    return name;
  }

  /** A 1-D int64 initializer (Pad's pads, Reshape's shape); returns its name. */
  int64s(base: string, values: number[]): string {
    const name = this.unique(base);
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** Add a node; returns its (first) output's name, made unique from `out`. */
  node(opType: string, inputs: string[], out: string, attributes: Record<string, Attribute> = {}): string {
    return this.nodeTo(opType, inputs, this.unique(out), attributes);
  }

  /** Add a node writing `output`, a name already taken with `unique` (the graph's own output). */
  nodeTo(opType: string, inputs: string[], output: string, attributes: Record<string, Attribute> = {}): string {
    const attribute = Object.entries(attributes).map(([k, a]) => attributeProto(k, a));
    this.nodes.push({ name: output, opType, input: inputs, output: [output], attribute });
    return output;
  }

  /** The op types used, for the export's metadata and the structural checks. */
  opTypes(): string[] {
    return [...new Set(this.nodes.map((n) => n.opType))].sort();
  }

  encode(m: {
    graphName: string;
    input: { name: string; dims: Dim[] };
    output: { name: string; dims: Dim[] };
    producerVersion: string;
    docString: string;
    metadata: Record<string, string>;
  }): Uint8Array {
    const graph = {
      name: m.graphName,
      node: this.nodes,
      initializer: this.initializers,
      input: [valueInfo(m.input.name, m.input.dims)],
      output: [valueInfo(m.output.name, m.output.dims)],
    };
    const model = {
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'Finetune Studio',
      producerVersion: m.producerVersion,
      docString: m.docString,
      graph,
      metadataProps: Object.entries(m.metadata).map(([key, value]) => ({ key, value })),
    };
    const problem = ModelProto.verify(model);
    if (problem) throw new Error(`Invalid ONNX model: ${problem}`);
    return ModelProto.encode(ModelProto.fromObject(model)).finish();
  }
}

/** Decode an ONNX file into plain objects (the structural checks and tests read it back). */
export function decodeOnnx(bytes: Uint8Array): Record<string, unknown> {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Array, defaults: false });
}
