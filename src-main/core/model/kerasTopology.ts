/** Keras functional-model JSON (a layers model.json's `modelTopology`), as far as the code that edits it needs. */

export interface KerasLayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}

export interface KerasTopology {
  model_config: {
    class_name: string;
    config: { name?: string; layers: KerasLayerJson[]; input_layers: unknown; output_layers: unknown };
  };
  [key: string]: unknown;
}

/** `inbound_nodes` of a layer applied to the first output of the layer `name`. */
export const inboundFrom = (name: string) => [[[name, 0, 0, {}]]];

/** A GlobalAveragePooling2D layer `name` over the output of the layer `from`. */
export function globalAveragePooling(name: string, from: string): KerasLayerJson {
  return {
    name,
    class_name: 'GlobalAveragePooling2D',
    config: { name, trainable: true, data_format: 'channels_last' },
    inbound_nodes: inboundFrom(from),
  };
}
