/**
 * One facekit runtime per process: the config, the face analyzer and the analysis queue, shared by
 * the router (Lambda and local server) and the CLI. `detect` is the whole path from an ImageInput
 * to a result.
 */
import { loadConfig, type FacekitConfig } from './config.js';
import { decodeFetchedImage, fetchImageBytes } from './image/load.js';
import type { FaceAnalyzer } from './vision/analyzer.js';
import { FacePipeline } from './vision/pipeline.js';
import type { DetectRequest, DetectResult } from './vision/types.js';
import { WorkerPool } from './vision/worker-pool.js';
import { WorkQueue } from './work-queue.js';

export interface Runtime {
  readonly config: FacekitConfig;
  readonly analyzer: FaceAnalyzer;
  readonly analyses: WorkQueue;
}

export interface RuntimeOptions {
  /** Run the models in this many worker threads from this bundled entry (local server); default in-process. */
  readonly workers?: { readonly file: URL; readonly count: number };
}

/** Loads every model now: a missing or corrupt model stops the process here, before it serves. */
export async function createRuntime(config: FacekitConfig = loadConfig(), options: RuntimeOptions = {}): Promise<Runtime> {
  const analyses = new WorkQueue(config.concurrency.maxConcurrentAnalyses, config.concurrency.maxQueuedAnalyses);
  const { workers } = options;
  const analyzer = workers && workers.count > 0 ? await WorkerPool.create(workers.file, config, workers.count) : await FacePipeline.create(config);
  return { config, analyzer, analyses };
}

export async function detect(runtime: Runtime, request: DetectRequest): Promise<DetectResult> {
  const { config, analyzer, analyses } = runtime;
  // Downloads wait on the network, not the CPU: only decoding and the models are queued.
  const fetched = await fetchImageBytes(request.image, config.image, config.fetch);
  return analyses.run(async () => {
    const loaded = await decodeFetchedImage(fetched, config.image);
    const { faces, timings } = await analyzer.analyze(loaded.image, request.options);
    return {
      width: loaded.image.width,
      height: loaded.image.height,
      faces,
      timings: { ...timings, fetchMs: loaded.fetchMs, decodeMs: loaded.decodeMs },
    };
  });
}
