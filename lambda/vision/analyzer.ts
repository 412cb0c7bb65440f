/** What the runtime needs from a pipeline: the in-process FacePipeline, or a pool of worker threads running one each. */
import type { RgbImage } from '../image/types.js';
import type { DetectOptions, FaceAnalysis, PipelineTimings } from './types.js';

export interface AnalysisResult {
  readonly faces: FaceAnalysis[];
  readonly timings: PipelineTimings;
}

export interface FaceAnalyzer {
  analyze(image: RgbImage, options: DetectOptions): Promise<AnalysisResult>;
  /** Frees what the analyzer holds (worker threads); a no-op in-process. */
  close(): Promise<void>;
}
