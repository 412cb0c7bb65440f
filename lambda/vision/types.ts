/**
 * Dialect-neutral shapes of the face pipeline. Coordinates are floats in display pixels (after EXIF
 * rotation); dialects round, scale and rename them.
 */
import type { ImageInput } from '../image/types.js';

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** Axis-aligned box, top-left corner plus size, in display pixels. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export const ATTRIBUTE_NAMES = [
  'emotion', // 7-class probabilities
  'smile', // intensity 0..100
  'headPose', // yaw/pitch/roll degrees
  'blur', // 0..1, higher = blurrier
  'quality', // 0..100, higher = better for recognition
  'eyeStatus', // per eye: open/closed/occluded/glasses
  'mouthStatus', // open/closed/mask/occluded
  'glasses', // none/eyeglasses/sunglasses
  'mask', // respirator / surgical mask probability
  'eyeGaze', // pupil position + direction vector per eye
  'liveness', // anti-spoof score (facekit extension)
] as const;

export type AttributeName = (typeof ATTRIBUTE_NAMES)[number];

/** What a request asks the pipeline to compute. Everything not asked for costs nothing. */
export interface DetectOptions {
  /** Keep only the N largest faces (by box area) after detection. */
  readonly maxFaces?: number;
  /** Overrides the detector score threshold (e.g. 0.02 for AP measurement). */
  readonly minConfidence?: number;
  /** Detect only inside this region; faces outside are dropped. */
  readonly region?: Box;
  /**
   * Analyse exactly these boxes as the faces (Face++ face_rectangle): no detection runs, each box
   * is returned unchanged with score 1 and its 5 points taken from its 106 points.
   */
  readonly givenFaces?: readonly Box[];
  /** Compute the 106 landmarks. */
  readonly landmarks106: boolean;
  /** Compute gender and age. */
  readonly genderAge: boolean;
  readonly attributes: ReadonlySet<AttributeName>;
  /**
   * Only the N largest faces get landmarks, gender/age and attributes (Face++: 5 unless
   * calculate_all=1); the rest are returned with box, score and 5 points only.
   */
  readonly analyzeLargest?: number;
  /**
   * Smallest face side, in pixels of the (display-oriented) image, that the caller needs found:
   * the detection planner skips passes that only serve smaller faces. Undefined: the config default.
   */
  readonly minFaceSize?: number;
  /**
   * The smallest face side is also at least this fraction of the image's short side (Face++
   * documents max(48 px, short side / 48)); the planner takes the larger of the two.
   */
  readonly minFaceShortSideFraction?: number;
}

export interface DetectRequest {
  readonly image: ImageInput;
  readonly options: DetectOptions;
}

export const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
export type Emotion = (typeof EMOTIONS)[number];

/** Probabilities 0..1 that sum to 1. */
export type Distribution<K extends string> = Readonly<Record<K, number>>;

export type EyeState = 'open' | 'closed' | 'occluded';
export type GlassesKind = 'none' | 'eyeglasses' | 'sunglasses';
export type MouthState = 'open' | 'closed' | 'mask' | 'occluded';

export interface EyeStatus {
  /** Distribution over open / closed / occluded for this eye. */
  readonly state: Distribution<EyeState>;
  /** Distribution over glasses kinds (shared by both eyes). */
  readonly glasses: Distribution<GlassesKind>;
}

export interface EyeGaze {
  /** Pupil (iris centre) in display pixels. */
  readonly position: Point;
  /**
   * Unit gaze direction in image axes: x right, y down, z towards the camera. Eye-in-head
   * rotation only (head yaw/pitch not added); an approximation, see docs/attributes.md.
   */
  readonly vector: { readonly x: number; readonly y: number; readonly z: number };
}

/**
 * Degrees, facekit convention (docs/attributes.md); mirroring the image negates yaw and roll.
 */
export interface HeadPose {
  /** > 0: the face turns towards the image's left (the person's own right). */
  readonly yaw: number;
  /** > 0: the face tilts up. */
  readonly pitch: number;
  /** > 0: the face is rotated clockwise in the image (the eye on the image's right is lower). */
  readonly roll: number;
}

export interface FaceAttributes {
  readonly emotion?: Distribution<Emotion>;
  /** Smile intensity 0..100 and the threshold above which a smile is asserted. */
  readonly smile?: { readonly value: number; readonly threshold: number };
  readonly headPose?: HeadPose;
  /** 0..1, higher = blurrier; `threshold` marks "too blurry for recognition". */
  readonly blur?: { readonly value: number; readonly threshold: number };
  /**
   * 0..100, mean BT.601 luma of the face crop scaled from 0..255 (100 = white): measured with `blur`
   * from the same pixels (Rekognition's Quality.Brightness).
   */
  readonly brightness?: number;
  /** 0..100, higher = better suited to face comparison. */
  readonly quality?: { readonly value: number; readonly threshold: number };
  /** "left" / "right" are the image's left and right. */
  readonly eyeStatus?: { readonly left: EyeStatus; readonly right: EyeStatus };
  readonly mouthStatus?: Distribution<MouthState>;
  readonly glasses?: Distribution<GlassesKind>;
  /** Probability 0..1 that a mask / respirator covers mouth and nose. */
  readonly mask?: number;
  readonly eyeGaze?: { readonly left: EyeGaze; readonly right: EyeGaze };
  /** Probability 0..1 that the face is a live person, not a photo or screen. */
  readonly liveness?: number;
}

export interface FaceAnalysis {
  readonly box: Box;
  /** Detector score 0..1. */
  readonly score: number;
  /** Eyes (image left, image right), nose tip, mouth corners (image left, image right). */
  readonly landmarks5: readonly Point[];
  /** 106 points in InsightFace 2d106 order, when asked for (and the face was analysed). */
  readonly landmarks106?: readonly Point[];
  readonly gender?: { readonly value: 'male' | 'female'; readonly maleProbability: number };
  readonly age?: number;
  /** Interval of years expected to hold the true age (calibrated coverage, docs/accuracy.md). */
  readonly ageRange?: { readonly low: number; readonly high: number };
  readonly attributes?: FaceAttributes;
}

export interface PipelineTimings {
  readonly detectMs: number;
  readonly landmarksMs: number;
  readonly genderAgeMs: number;
  readonly attributesMs: number;
}

export interface DetectResult {
  readonly width: number;
  readonly height: number;
  /** Sorted by score, highest first. */
  readonly faces: readonly FaceAnalysis[];
  readonly timings: PipelineTimings & { readonly fetchMs: number; readonly decodeMs: number };
}
