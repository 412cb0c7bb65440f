import { DETECTOR_BOX_IN_TEMPLATE, SYMMETRIC_TEMPLATE } from '../../lambda/vision/alignment.js';
import { squareFromLandmarks } from '../../lambda/vision/attributes/common.js';
import { emotionCropTransform, emotionModel } from '../../lambda/vision/attributes/emotion.js';
import { faceAttributesModel } from '../../lambda/vision/attributes/faceAttributes5.js';
import { irisModel } from '../../lambda/vision/attributes/gaze.js';
import { headPoseCropTransform, headPoseModels } from '../../lambda/vision/attributes/headPose.js';
import { livenessModel } from '../../lambda/vision/attributes/liveness.js';
import { firstOutput, itemLength, namedOutput, type FaceModel } from '../../lambda/vision/face-model.js';
import { faceResAlignment, faceResModel } from '../../lambda/vision/faceres.js';
import { genderAgeModel } from '../../lambda/vision/genderage.js';
import { applyAffine } from '../../lambda/vision/geometry.js';
import { firstPassCrop, landmarks106Model } from '../../lambda/vision/landmarks106.js';
import { MODELS, MODEL_IDS } from '../../lambda/vision/models.js';
import type { RgbImage } from '../../lambda/image/types.js';
import type { Point } from '../../lambda/vision/types.js';

const image: RgbImage = { data: Buffer.alloc(200 * 200 * 3, 90), width: 200, height: 200 };
const landmarks5: Point[] = [{ x: 80, y: 90 }, { x: 120, y: 91 }, { x: 100, y: 112 }, { x: 84, y: 132 }, { x: 117, y: 131 }];
const face = { box: { x: 60, y: 50, width: 80, height: 100 }, landmarks5 };
/** The same face moved by (dx, dy) and scaled by k about the origin. */
const moved = (points: readonly Point[], k: number, dx: number, dy: number) => points.map(({ x, y }) => ({ x: k * x + dx, y: k * y + dy }));

describe('one model table', () => {
  it('has one entry per id, each with its file once', () => {
    for (const id of MODEL_IDS) expect(MODELS[id].id).toBe(id);
    const files = MODEL_IDS.map((id) => MODELS[id].file);
    expect(new Set(files).size).toBe(files.length);
    expect(MODEL_IDS.filter((id) => MODELS[id].role === 'detector')).toEqual(['scrfd']);
  });

  it('every per-face model is its table entry plus pure pre/post-processing that makes whole input items', () => {
    const models: [FaceModel<never, unknown>, readonly unknown[]][] = [
      [landmarks106Model as FaceModel<never, unknown>, [firstPassCrop(face.box), firstPassCrop(face.box)]],
      [genderAgeModel as FaceModel<never, unknown>, [landmarks5, landmarks5]],
      [faceResModel as FaceModel<never, unknown>, [faceResAlignment(landmarks5, 1.2), faceResAlignment(landmarks5, 0.9)]],
      ...[emotionModel, faceAttributesModel, irisModel, livenessModel, ...headPoseModels].map((model) => [model as FaceModel<never, unknown>, [face, face]] as [FaceModel<never, unknown>, readonly unknown[]]),
    ];
    const covered = new Set<string>();
    for (const [model, faces] of models) {
      const { preprocess, postprocess, ...entry } = model;
      expect(entry).toEqual(MODELS[model.id as keyof typeof MODELS]);
      const batch = preprocess(image, faces as never[]);
      const perFace = model.id === 'iris' ? 2 : 1;
      expect(batch.length).toBe(faces.length * perFace * itemLength(model));
      expect(typeof postprocess).toBe('function');
      covered.add(model.id);
    }
    expect([...covered].sort()).toEqual(MODEL_IDS.filter((id) => MODELS[id].role === 'face').sort());
  });

  it('fixes FSA-Net at one face per run and caps FaceRes for memory', () => {
    for (const model of headPoseModels) expect(model.maxBatch).toBe(1);
    expect(faceResModel.maxBatch).toBe(4);
  });

  it('names a missing output', () => {
    expect(() => namedOutput({ a: new Float32Array(1) }, 'b', 'm.onnx')).toThrow(/m.onnx has no output b \(outputs: a\)/);
    expect(() => firstOutput({}, 'm')).toThrow(/no output/);
  });
});

describe('crops placed from the 5 points', () => {
  it('puts the template itself on the fitted box framing', () => {
    const region = squareFromLandmarks(SYMMETRIC_TEMPLATE, 1.5);
    expect(region.centerX).toBeCloseTo(DETECTOR_BOX_IN_TEMPLATE.centreX, 9);
    expect(region.centerY).toBeCloseTo(DETECTOR_BOX_IN_TEMPLATE.centreY, 9);
    expect(region.side).toBeCloseTo(1.5 * DETECTOR_BOX_IN_TEMPLATE.side, 9);
  });

  it('follows the landmarks when the face moves or grows, whatever the box', () => {
    const before = squareFromLandmarks(landmarks5, 1);
    const after = squareFromLandmarks(moved(landmarks5, 2, 30, -10), 1);
    expect(after.centerX).toBeCloseTo(2 * before.centerX + 30, 9);
    expect(after.centerY).toBeCloseTo(2 * before.centerY - 10, 9);
    expect(after.side).toBeCloseTo(2 * before.side, 9);
    const otherBox = { ...face, box: { x: 0, y: 0, width: 10, height: 10 } };
    expect(emotionCropTransform(otherBox)).toEqual(emotionCropTransform(face));
    expect(headPoseCropTransform(otherBox)).toEqual(headPoseCropTransform(face));
  });

  it('mirrors with the face: the mirrored points give the mirrored square', () => {
    const width = 200;
    // Mirroring swaps which eye and mouth corner is on the image's left.
    const mirrored = [landmarks5[1], landmarks5[0], landmarks5[2], landmarks5[4], landmarks5[3]].map(({ x, y }) => ({ x: width - x, y }));
    const plain = squareFromLandmarks(landmarks5, 1);
    const flipped = squareFromLandmarks(mirrored, 1);
    // Exactly, thanks to the symmetric template (pixel-edge coordinates: x ↦ width − x).
    expect(flipped.centerX).toBeCloseTo(width - plain.centerX, 9);
    expect(flipped.centerY).toBeCloseTo(plain.centerY, 9);
    expect(flipped.side).toBeCloseTo(plain.side, 9);
  });

  it('stays upright on a rolled face (only the centre and side follow the similarity)', () => {
    const transform = headPoseCropTransform(face);
    expect(transform[1]).toBe(0);
    expect(transform[3]).toBe(0);
    const centre = applyAffine(transform, { x: squareFromLandmarks(landmarks5, 1.5).centerX - 0.5, y: squareFromLandmarks(landmarks5, 1.5).centerY - 0.5 });
    expect(centre.x).toBeCloseTo(31.5, 9);
    expect(centre.y).toBeCloseTo(31.5, 9);
  });
});
