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
import { warmModel } from './face-model.js';
import { detectLandmarks106, fivePointsFrom106 } from './landmarks106.js';
import { MODELS } from './models.js';
import { planDetection, type DetectionPlan, type ReliableRange } from './planner.js';
import { nms, placeRegion, runScrfd, type Candidate } from './scrfd.js';
import type { SessionSettings } from './session.js';
import type { Box, DetectOptions, FaceAnalysis, PipelineTimings } from './types.js';

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

/**
 * SCRFD-2.5g's reliable face sizes, in input pixels (longer box side), from
 * `npm run eval:detector-range` on the dev WIDER photos and 300-W close-ups (docs/performance.md);
 * kept with the detector's entry in the model table.
 */
export const SCRFD_RELIABLE_RANGE: ReliableRange = MODELS.scrfd.reliableRange;

/** The plan for a region: the request's smallest face (or the config's) and whether it wants only the largest. */
export function planFor(region: Box, options: Pick<DetectOptions, 'minFaceSize' | 'minFaceShortSideFraction' | 'maxFaces'>, detector: FacekitConfig['detector']): DetectionPlan {
  return planDetection(region.width, region.height, {
    minFaceSize: options.minFaceSize ?? detector.minFaceSize,
    ...(options.minFaceShortSideFraction !== undefined ? { minFaceShortSideFraction: options.minFaceShortSideFraction } : {}),
    largestOnly: options.maxFaces === 1,
  }, { range: SCRFD_RELIABLE_RANGE, maxUpscale: detector.maxUpscale, maxInputSide: detector.maxInputSide });
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

  /**
   * Loads (and runs once) every model now, so a missing or corrupt file stops the process at start,
   * not per request. Files come from the config (which may swap one, e.g. an int8 file), models from
   * the one table (models.ts).
   */
  static async create(config: FacekitConfig): Promise<FacePipeline> {
    const settings: SessionSettings = { modelDir: config.modelDir, intraOpThreads: config.intraOpThreads, memoryPattern: config.memoryPattern, memoryArena: config.memoryArena };
    // allSettled: report a failure only once no other model is still loading, so the caller may
    // exit (or end a worker) without tearing down onnxruntime in the middle of a load.
    const loads = await Promise.allSettled([
      warmModel(MODELS.scrfd, { ...settings, memoryArena: config.detector.memoryArena }, config.detector.modelFile),
      warmModel(MODELS.landmarks106, settings, config.landmarkModelFile),
      warmModel(MODELS.genderAge, settings, config.genderAgeModelFile),
      config.genderModel === 'fused' ? warmModel(MODELS.faceRes, settings, config.faceResModelFile) : Promise.resolve(undefined),
      warmAttributeModels(settings),
    ] as const);
    const failure = loads.find((load): load is PromiseRejectedResult => load.status === 'rejected');
    if (failure) throw failure.reason;
    const [detector, landmarks, genderAge, faceRes] = loads.map((load) => (load as PromiseFulfilledResult<unknown>).value) as [
      ort.InferenceSession, ort.InferenceSession, ort.InferenceSession, ort.InferenceSession | undefined,
    ];
    return new FacePipeline(config, detector, landmarks, genderAge, faceRes, settings);
  }

  /**
   * Boxes, scores and 5 points, merged over the planned passes, best first. A request that names
   * its smallest face (a dialect's documented minimum) gets no smaller face back.
   */
  async detect(image: RgbImage, options: Pick<DetectOptions, 'minConfidence' | 'region' | 'minFaceSize' | 'minFaceShortSideFraction' | 'maxFaces'> = {}): Promise<DetectedFace[]> {
    const detector = this.config.detector;
    const region = clipRegion(options.region, image.width, image.height);
    if (!region) return [];
    const scoreThreshold = options.minConfidence ?? detector.scoreThreshold;
    const plan = planFor(region, options, detector);
    const candidates: Candidate[] = [];
    // Passes run one after another: each already uses every intra-op thread.
    for (const pass of plan.passes) {
      const found = await runScrfd(this.detector, image, placeRegion(region, pass.input, pass.scale), scoreThreshold, detector.preNmsTopK, { region, method: detector.resampling });
      candidates.push(...found);
      if (plan.stopAtFirstHit && found.length > 0) break;
    }
    const faces = nms(candidates, detector.nmsIouThreshold).map(toDetectedFace);
    const wanted = options.minFaceSize !== undefined || options.minFaceShortSideFraction !== undefined;
    return wanted ? faces.filter((face) => Math.max(face.box.width, face.box.height) >= plan.smallestFace) : faces;
  }

  /** Boxes the caller says are faces: each kept as given, its 5 points from its 106 points. */
  private async givenFaces(image: RgbImage, boxes: readonly Box[]): Promise<DetectedFace[]> {
    const landmarks = await detectLandmarks106(this.landmarks, image, boxes);
    return boxes.map((box, index) => ({ box, score: 1, landmarks5: fivePointsFrom106(landmarks[index]!) }));
  }

  /** Sessions are shared by the process and live as long as it does. */
  async close(): Promise<void> {}

  /** The whole analysis a request asked for. */
  async analyze(image: RgbImage, options: DetectOptions): Promise<{ faces: FaceAnalysis[]; timings: PipelineTimings }> {
    const started = performance.now();
    let detected = options.givenFaces ? await this.givenFaces(image, options.givenFaces) : await this.detect(image, options);
    if (options.maxFaces !== undefined) {
      const keep = largestIndices(detected, options.maxFaces);
      detected = detected.filter((_, index) => keep.has(index));
    }
    const detectMs = performance.now() - started;

    // Per-face models run only on faces at the normal score threshold: a low `minConfidence`
    // (AP measurement, bulk recall) returns its extra candidates with box, score and 5 points.
    const confident = detected.flatMap((face, index) => (face.score >= this.config.detector.scoreThreshold ? [index] : []));
    const analysedIndices = options.analyzeLargest === undefined
      ? new Set(confident)
      : new Set([...largestIndices(confident.map((index) => detected[index]!), options.analyzeLargest)].map((position) => confident[position]!));
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
