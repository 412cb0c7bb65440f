/**
 * The face pipeline: detector passes → merged NMS → per-face models batched over all faces.
 * Sessions are created once per process (`FacePipeline.create`) and shared by every request.
 */
import type * as ort from 'onnxruntime-node';
import type { FacekitConfig } from '../config.js';
import type { FaceAnalyzer } from './analyzer.js';
import { estimateGenderAndAge } from './age-gender-heads.js';
import type { RgbImage } from '../image/types.js';
import { attributesNeedingLandmarks106, computeAttributes, warmAttributeModels } from './attributes/index.js';
import { boxArea } from './geometry.js';
import { detectLandmarks106 } from './landmarks106.js';
import { chooseInputSize, letterbox, nms, runScrfd, type Candidate, type InputSize } from './scrfd.js';
import { getSession, type SessionSettings } from './session.js';
import type { Box, DetectOptions, FaceAnalysis, PipelineTimings } from './types.js';

/** Smallest main-pass long side: SCRFD's native 640 (smaller inputs lose faces, not time). */
const MIN_MAIN_PASS_SIDE = 640;

export interface DetectedFace {
  readonly box: Box;
  readonly score: number;
  readonly landmarks5: FaceAnalysis['landmarks5'];
}


function toDetectedFace(candidate: Candidate): DetectedFace {
  return {
    box: { x: candidate.x1, y: candidate.y1, width: candidate.x2 - candidate.x1, height: candidate.y2 - candidate.y1 },
    score: candidate.score,
    landmarks5: candidate.keypoints,
  };
}

export interface DetectorPass {
  readonly input: InputSize;
  /** Largest resize factor allowed (the close-up pass never enlarges: big faces must stay small). */
  readonly maxScale: number;
}

/**
 * The detector passes for a region. Main pass: long side enlarged by mainPassUpscale and clamped to
 * [640, maxInputSide], so small faces get pixels. Close-up pass: a square canvas of closeUpPassSide
 * into which the region is only ever shrunk (zero padding), so a face filling the image stays
 * within the sizes SCRFD scores well (it loses faces above ~400 px of input).
 */
export function detectorPasses(region: Box, detector: FacekitConfig['detector']): DetectorPass[] {
  const longSide = Math.max(region.width, region.height);
  const mainLongSide = Math.min(Math.max(longSide * detector.mainPassUpscale, MIN_MAIN_PASS_SIDE), detector.maxInputSide);
  const main = chooseInputSize(region.width, region.height, mainLongSide, mainLongSide);
  const passes: DetectorPass[] = [{ input: main, maxScale: Infinity }];
  const closeUpSide = detector.closeUpPassSide;
  if (closeUpSide > 0) passes.push({ input: { width: closeUpSide, height: closeUpSide }, maxScale: 1 });
  return passes;
}

/** Indices of the `count` largest faces (by box area). */
export function largestIndices(faces: readonly { box: Box }[], count: number): Set<number> {
  return new Set(
    faces.map((face, index) => ({ index, size: boxArea(face.box) }))
      .sort((a, b) => b.size - a.size)
      .slice(0, count)
      .map((entry) => entry.index),
  );
}

/** Clips a requested region to the image; undefined when nothing of it is inside. */
export function clipRegion(region: Box | undefined, width: number, height: number): Box | undefined {
  const whole = { x: 0, y: 0, width, height };
  if (!region) return whole;
  const x1 = Math.max(0, region.x), y1 = Math.max(0, region.y);
  const x2 = Math.min(width, region.x + region.width), y2 = Math.min(height, region.y + region.height);
  return x2 - x1 >= 1 && y2 - y1 >= 1 ? { x: x1, y: y1, width: x2 - x1, height: y2 - y1 } : undefined;
}

export class FacePipeline implements FaceAnalyzer {
  private constructor(
    private readonly config: FacekitConfig,
    private readonly detector: ort.InferenceSession,
    private readonly landmarks: ort.InferenceSession,
    private readonly genderAge: ort.InferenceSession,
    /** Present when config.genderModel is 'fused'. */
    private readonly faceRes: ort.InferenceSession | undefined,
    private readonly sessionSettings: SessionSettings,
  ) {}

  /** Loads every model now, so a missing or corrupt file stops the process at start, not per request. */
  static async create(config: FacekitConfig): Promise<FacePipeline> {
    const settings: SessionSettings = { modelDir: config.modelDir, intraOpThreads: config.intraOpThreads };
    // allSettled: report a failure only once no other model is still loading, so the caller may
    // exit (or end a worker) without tearing down onnxruntime in the middle of a load.
    const loads = await Promise.allSettled([
      getSession(config.detector.modelFile, settings),
      getSession(config.landmarkModelFile, settings),
      getSession(config.genderAgeModelFile, settings),
      config.genderModel === 'fused' ? getSession(config.faceResModelFile, settings) : Promise.resolve(undefined),
      warmAttributeModels(settings),
    ] as const);
    const failure = loads.find((load): load is PromiseRejectedResult => load.status === 'rejected');
    if (failure) throw failure.reason;
    const [detector, landmarks, genderAge, faceRes] = loads.map((load) => (load as PromiseFulfilledResult<unknown>).value) as [
      ort.InferenceSession, ort.InferenceSession, ort.InferenceSession, ort.InferenceSession | undefined,
    ];
    return new FacePipeline(config, detector, landmarks, genderAge, faceRes, settings);
  }

  /** Boxes, scores and 5 points, merged over all passes, best first. */
  async detect(image: RgbImage, options: Pick<DetectOptions, 'minConfidence' | 'region'> = {}): Promise<DetectedFace[]> {
    const detector = this.config.detector;
    const region = clipRegion(options.region, image.width, image.height);
    if (!region) return [];
    const scoreThreshold = options.minConfidence ?? detector.scoreThreshold;
    const candidates: Candidate[] = [];
    // Passes run one after another: each already uses every intra-op thread.
    for (const pass of detectorPasses(region, detector)) {
      const box = letterbox(region, pass.input, pass.maxScale);
      candidates.push(...(await runScrfd(this.detector, image, box, scoreThreshold, detector.preNmsTopK)));
    }
    return nms(candidates, detector.nmsIouThreshold).map(toDetectedFace);
  }

  /** Sessions are shared by the process and live as long as it does. */
  async close(): Promise<void> {}

  /** The whole analysis a request asked for. */
  async analyze(image: RgbImage, options: DetectOptions): Promise<{ faces: FaceAnalysis[]; timings: PipelineTimings }> {
    const started = performance.now();
    let detected = await this.detect(image, options);
    if (options.maxFaces !== undefined) {
      const keep = largestIndices(detected, options.maxFaces);
      detected = detected.filter((_, index) => keep.has(index));
    }
    const detectMs = performance.now() - started;

    const analysedIndices = options.analyzeLargest === undefined
      ? new Set(detected.map((_, index) => index))
      : largestIndices(detected, options.analyzeLargest);
    const analysed = detected.filter((_, index) => analysedIndices.has(index));

    const landmarksStarted = performance.now();
    const needLandmarks106 = options.landmarks106 || attributesNeedingLandmarks106(options.attributes);
    const landmarks106 = needLandmarks106 ? await detectLandmarks106(this.landmarks, image, analysed.map((face) => face.box)) : [];
    const landmarksMs = performance.now() - landmarksStarted;

    const genderAgeStarted = performance.now();
    const genderAges = options.genderAge ? await estimateGenderAndAge({ genderAge: this.genderAge, faceRes: this.faceRes }, image, analysed) : [];
    const genderAgeMs = performance.now() - genderAgeStarted;

    const attributesStarted = performance.now();
    const attributes = options.attributes.size > 0
      ? await computeAttributes(image, analysed.map((face, index) => ({ ...face, landmarks106: landmarks106[index] })), options.attributes, this.sessionSettings)
      : [];
    const attributesMs = performance.now() - attributesStarted;

    let analysedPosition = 0;
    const faces = detected.map((face, index): FaceAnalysis => {
      if (!analysedIndices.has(index)) return face;
      const position = analysedPosition++;
      const genderAge = genderAges[position];
      return {
        ...face,
        ...(options.landmarks106 ? { landmarks106: landmarks106[position] } : {}),
        ...(genderAge ? { gender: { value: genderAge.gender, maleProbability: genderAge.maleProbability }, age: genderAge.age, ageRange: genderAge.ageRange } : {}),
        ...(attributes[position] ? { attributes: attributes[position] } : {}),
      };
    });
    return { faces, timings: { detectMs, landmarksMs, genderAgeMs, attributesMs } };
  }
}
