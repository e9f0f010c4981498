/**
 * Editing a downloaded Keras backbone's topology so it can serve as a feature extractor: Sequential models turned
 * functional, the graph cut at the registry's feature layer, the input resized and rescaled, global pooling appended.
 */
import { FEATURES_LAYER } from './backbone';
import type { BackboneDescriptor } from './backbones';
import { globalAveragePooling, inboundFrom, type KerasLayerJson, type KerasTopology } from './kerasTopology';

const RESCALE_LAYER = 'backbone_rescale';

function inboundNames(layer: KerasLayerJson): string[] {
  const names: string[] = [];
  const walk = (v: unknown) => {
    if (!Array.isArray(v)) return;
    if (typeof v[0] === 'string' && typeof v[1] === 'number') names.push(v[0]);
    else v.forEach(walk);
  };
  walk(layer.inbound_nodes);
  return names;
}

/** Keras Sequential configs, as a functional graph, so they can be cut and extended the same way. */
function toFunctional(topology: object, id: string): KerasTopology {
  const t = topology as { model_config?: { class_name: string; config: unknown } } & Record<string, unknown>;
  const mc = (t.model_config ?? t) as { class_name: string; config: unknown };
  if (mc.class_name !== 'Sequential') {
    const { model_config: _drop, ...rest } = t;
    return { ...rest, model_config: structuredClone(mc) } as KerasTopology;
  }
  const cfg = mc.config as { name?: string; layers?: KerasLayerJson[] } | KerasLayerJson[];
  const seq = (Array.isArray(cfg) ? cfg : (cfg.layers ?? [])).map((l) => structuredClone(l));
  const first = seq[0] as KerasLayerJson | undefined;
  if (!first) throw new Error(`The backbone "${id}" has an empty Sequential model.`);
  const layers: KerasLayerJson[] = [];
  let prev: string;
  if (first.class_name === 'InputLayer') {
    layers.push({ ...first, name: first.config.name as string, inbound_nodes: [] });
    prev = first.config.name as string;
    seq.shift();
  } else {
    prev = `${(first.config.name as string) ?? 'sequential'}_input`;
    layers.push({
      name: prev,
      class_name: 'InputLayer',
      config: { name: prev, batch_input_shape: first.config.batch_input_shape, dtype: 'float32', sparse: false },
      inbound_nodes: [],
    });
  }
  for (const l of seq as KerasLayerJson[]) {
    const name = l.config.name as string;
    layers.push({ name, class_name: l.class_name, config: l.config, inbound_nodes: inboundFrom(prev) });
    prev = name;
  }
  return {
    model_config: {
      class_name: 'Model',
      config: { name: 'backbone', layers, input_layers: [[layers[0]!.name, 0, 0]], output_layers: [[prev, 0, 0]] },
    },
  };
}

/**
 * The backbone's topology cut at its feature layer (only that layer's ancestors kept), input resized, rescaled
 * from [0, 1] to the network's range, and ending in global average pooling named `FEATURES_LAYER`.
 */
export function pooledTopology(topology: object, desc: BackboneDescriptor, size: number): KerasTopology {
  const topo = toFunctional(topology, desc.id);
  const all = topo.model_config.config.layers;
  const cutAt = desc.featureLayer!;
  const byName = new Map(all.map((l) => [l.name, l]));
  if (!byName.has(cutAt)) {
    throw new Error(`The backbone "${desc.id}" has no layer "${cutAt}" to cut at: its registry entry is wrong.`);
  }
  if (byName.has(FEATURES_LAYER) || byName.has(RESCALE_LAYER)) {
    throw new Error(`The backbone "${desc.id}" already has a layer named ${FEATURES_LAYER} or ${RESCALE_LAYER}.`);
  }
  const keep = new Set<string>();
  const stack = [cutAt];
  while (stack.length) {
    const name = stack.pop()!;
    if (keep.has(name)) continue;
    keep.add(name);
    stack.push(...inboundNames(byName.get(name)!));
  }
  const layers = all.filter((l) => keep.has(l.name));
  const inputs = layers.filter((l) => l.class_name === 'InputLayer');
  if (inputs.length !== 1) throw new Error(`The backbone "${desc.id}" must have one image input.`);
  const input = inputs[0]!;
  for (const l of layers) delete l.config.batch_input_shape;
  input.config.batch_input_shape = [null, size, size, 3];
  const out: KerasLayerJson[] = [input];
  if (desc.inputRange === '[-1,1]') {
    // The pipeline gives [0, 1]: x * 2 - 1 inside the model, so exports keep the same input contract.
    out.push({
      name: RESCALE_LAYER,
      class_name: 'Rescaling',
      config: { name: RESCALE_LAYER, trainable: false, dtype: 'float32', scale: 2, offset: -1 },
      inbound_nodes: inboundFrom(input.name),
    });
    const rewire = (v: unknown): unknown =>
      Array.isArray(v)
        ? typeof v[0] === 'string' && typeof v[1] === 'number'
          ? v[0] === input.name
            ? [RESCALE_LAYER, ...v.slice(1)]
            : v
          : v.map(rewire)
        : v;
    for (const l of layers) if (l !== input) l.inbound_nodes = rewire(l.inbound_nodes) as unknown[];
  }
  out.push(...layers.filter((l) => l !== input));
  out.push(globalAveragePooling(FEATURES_LAYER, cutAt));
  topo.model_config.config.layers = out;
  topo.model_config.config.input_layers = [[input.name, 0, 0]];
  topo.model_config.config.output_layers = [[FEATURES_LAYER, 0, 0]];
  delete topo.training_config;
  return topo;
}
