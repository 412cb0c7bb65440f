/**
 * One facekit runtime per process: the config and the loaded pipeline, shared by the router
 * (Lambda and local server) and the CLI. `detect` is the whole path from an ImageInput to a result.
 */
import { loadConfig, type FacekitConfig } from './config.js';
import { loadImage } from './image/load.js';
import { FacePipeline } from './vision/pipeline.js';
import type { DetectRequest, DetectResult } from './vision/types.js';

export interface Runtime {
  readonly config: FacekitConfig;
  readonly pipeline: FacePipeline;
}

/** Loads every model now: a missing or corrupt model stops the process here, before it serves. */
export async function createRuntime(config: FacekitConfig = loadConfig()): Promise<Runtime> {
  return { config, pipeline: await FacePipeline.create(config) };
}

export async function detect(runtime: Runtime, request: DetectRequest): Promise<DetectResult> {
  const { config, pipeline } = runtime;
  const loaded = await loadImage(request.image, config.image, config.fetch);
  const { faces, timings } = await pipeline.analyze(loaded.image, request.options);
  return {
    width: loaded.image.width,
    height: loaded.image.height,
    faces,
    timings: { ...timings, fetchMs: loaded.fetchMs, decodeMs: loaded.decodeMs },
  };
}
