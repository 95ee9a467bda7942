/**
 * Pipelines written for COCO runs read captions and tags from files keyed by image id (VinVL TSVs). An image that is not
 * a dataset file has no entry there, so an answerer swaps those nodes for stages that work on any image. When the data
 * names no such file: `caption.file` → `caption.model`, `tags.file` → `tags.clip` (whole-image CLIP tags). When it names
 * one: `caption.file` → `caption.auto`, `tags.file` → `tags.auto`, which read the file for the images it covers and fall
 * back per image to the model stage for the others (an upload, a photo outside the file), noting the fallback in that
 * result's notes. Each swap is reported (Answerer.adaptations and the CLI), never silent.
 */
import type { NodeSpec, PipelineSpec } from '../core/pipeline-spec.js';
import type { DataSources } from '../data/sources.js';

export interface Adaptation {
  node: string;
  from: string;
  to: string;
  why: string;
}

export function adaptForAnyImage(spec: PipelineSpec, data: DataSources): { spec: PipelineSpec; adaptations: Adaptation[] } {
  const adaptations: Adaptation[] = [];
  const nodes: Record<string, NodeSpec> = { ...spec.nodes };
  const origin = { ...spec.origin };
  for (const [name, node] of Object.entries(spec.nodes)) {
    const ownFile = node.params && typeof node.params.file === 'string';
    if (node.use === 'caption.file' && !ownFile && !data.captions) {
      const swapped: NodeSpec = { use: 'caption.model' };
      if (node.inputs) swapped.inputs = node.inputs;
      nodes[name] = swapped;
      adaptations.push({ node: name, from: 'caption.file', to: 'caption.model', why: 'no captions file in the data' });
    } else if (node.use === 'tags.file' && !ownFile && !data.tags) {
      const top = node.params && typeof node.params.top === 'number' ? node.params.top : undefined;
      // whole-image tags, as VinVL's image-level tags (not per region, even when the pipeline has regions)
      const swapped: NodeSpec = { use: 'tags.clip', params: top !== undefined ? { topP: top } : {}, inputs: { regions: [] } };
      nodes[name] = swapped;
      adaptations.push({ node: name, from: 'tags.file', to: 'tags.clip', why: 'no tags file in the data' });
    } else if (node.use === 'caption.file') {
      const p = node.params ?? {};
      const params: Record<string, unknown> = {};
      for (const k of ['file', 'key', 'max'] as const) if (p[k] !== undefined) params[k] = p[k];
      const swapped: NodeSpec = { use: 'caption.auto', params };
      if (node.inputs) swapped.inputs = node.inputs;
      nodes[name] = swapped;
      adaptations.push({ node: name, from: 'caption.file', to: 'caption.auto', why: 'per image: the captions file when it covers the image, else caption.model' });
    } else if (node.use === 'tags.file') {
      const p = node.params ?? {};
      const params: Record<string, unknown> = {};
      for (const k of ['file', 'key', 'top', 'minConf', 'order'] as const) if (p[k] !== undefined) params[k] = p[k];
      const swapped: NodeSpec = { use: 'tags.auto', params };
      if (node.inputs) swapped.inputs = node.inputs;
      nodes[name] = swapped;
      adaptations.push({ node: name, from: 'tags.file', to: 'tags.auto', why: 'per image: the tags file when it covers the image, else whole-image tags.clip' });
    } else continue;
    origin[name] = 'any-image adaptation';
  }
  return { spec: adaptations.length ? { ...spec, nodes, origin } : spec, adaptations };
}
