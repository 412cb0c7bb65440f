/**
 * `npm run fit:gender`: fits the gender fusion weights (lambda/vision/gender-fusion.ts).
 *
 * Training faces: every gender-labelled face of ../shared/eval/dev except UTKFace, i.e. the WIDER
 * FACE faces of detection.json (matched to a detection at IoU ≥ 0.4) and the CelebA portraits of
 * attributes.json (largest detection). Each face gets the two models' male logits exactly as the
 * pipeline computes them (detector 5 points → genderage; detector box → FaceRes crops). The fit is a
 * class-balanced logistic regression (WIDER photos are 62 % male; the API should not inherit that
 * prior) with a light L2 penalty. It prints the weights, their 5-fold cross-validated accuracy on the
 * training faces, and the held-out UTKFace accuracy of the new weights and of the weights in the code.
 */
import { loadConfig } from '../lambda/config.js';
import { estimateFaceResGender } from '../lambda/vision/faceres.js';
import { fuseGender, GENDER_FUSION_WEIGHTS, type GenderFusionWeights } from '../lambda/vision/gender-fusion.js';
import { estimateGenderAge } from '../lambda/vision/genderage.js';
import { FacePipeline, type DetectedFace } from '../lambda/vision/pipeline.js';
import { getSession } from '../lambda/vision/session.js';
import { largestBy, loadEvalImage, loadEvalSet, matchLabelled, type EvalImage } from './evaluation.js';
import { classBalancedWeights, fitLogisticRegression } from './logistic-regression.js';

/** L2 penalty: light, three parameters against ~300 faces. */
const L2_PENALTY = 0.1;
/** Overlap that identifies a labelled WIDER face with a detection. */
const LABEL_MATCH_IOU = 0.4;
const FOLDS = 5;

const config = loadConfig();
const pipeline = await FacePipeline.create(config);
const settings = { modelDir: config.modelDir, intraOpThreads: config.intraOpThreads };
const genderAgeSession = await getSession(config.genderAgeModelFile, settings);
const faceResSession = await getSession(config.faceResModelFile, settings);

type LabelledPair = { label: { gender?: string | null; age?: number }; face: DetectedFace };

interface Sample { readonly features: [number, number]; readonly male: number; readonly age?: number }

/** The two logits for each (labelled face, detection) pair of an image. */
async function samplesOf(image: EvalImage, pick: (faces: DetectedFace[]) => LabelledPair[]): Promise<Sample[]> {
  const rgb = await loadEvalImage(image, config);
  const pairs = pick(await pipeline.detect(rgb)).filter((pair) => pair.label.gender === 'male' || pair.label.gender === 'female');
  if (pairs.length === 0) return [];
  const genderAge = await estimateGenderAge(genderAgeSession, rgb, pairs.map((pair) => pair.face.landmarks5));
  const faceRes = await estimateFaceResGender(faceResSession, rgb, pairs.map((pair) => pair.face.box));
  return pairs.map((pair, index) => ({ features: [genderAge[index].maleLogit, faceRes[index]], male: pair.label.gender === 'male' ? 1 : 0, age: pair.label.age }));
}

const firstLabelOnLargest = (image: EvalImage) => (faces: DetectedFace[]): LabelledPair[] => {
  const face = largestBy(faces, (detected) => detected.box);
  return face && image.faces?.[0] ? [{ label: image.faces[0], face }] : [];
};
const matchedLabels = (image: EvalImage) => (faces: DetectedFace[]): LabelledPair[] =>
  matchLabelled((image.faces ?? []).filter((label) => label.gender), faces, (detected) => detected.box, LABEL_MATCH_IOU)
    .map(({ label, detection }) => ({ label, face: detection }));

async function collect(category: string, pick: (image: EvalImage) => (faces: DetectedFace[]) => LabelledPair[], source?: string): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const image of await loadEvalSet(category)) {
    if (source && image.source !== source) continue;
    if (!(image.faces ?? []).some((face) => face.gender)) continue;
    samples.push(...(await samplesOf(image, pick(image))));
  }
  return samples;
}

const accuracy = (samples: readonly Sample[], weights: GenderFusionWeights) =>
  samples.filter((sample) => (fuseGender(sample.features[0], sample.features[1], weights).gender === 'male') === (sample.male === 1)).length / Math.max(samples.length, 1);
const toWeights = (fitted: readonly number[]): GenderFusionWeights => ({ genderAge: fitted[0], faceRes: fitted[1], bias: fitted[2] });
const fit = (samples: readonly Sample[]) => {
  const labels = samples.map((sample) => sample.male);
  return toWeights(fitLogisticRegression(samples.map((sample) => sample.features), labels, { l2: L2_PENALTY, sampleWeights: classBalancedWeights(labels) }).weights);
};

const training = [...(await collect('detection', matchedLabels, 'wider_val')), ...(await collect('attributes', firstLabelOnLargest))];
const heldOut = await collect('age_gender', firstLabelOnLargest);
const weights = fit(training);

// Cross-validation on the training faces: folds by position (the data set order is fixed, so reruns agree).
let foldCorrect = 0;
for (let fold = 0; fold < FOLDS; fold++) {
  const inFold = (index: number) => index % FOLDS === fold;
  const foldWeights = fit(training.filter((_, index) => !inFold(index)));
  const test = training.filter((_, index) => inFold(index));
  foldCorrect += accuracy(test, foldWeights) * test.length;
}

const round = (value: number) => Number(value.toFixed(4));
const fixed = (value: number) => value.toFixed(3);
const adults = heldOut.filter((sample) => (sample.age ?? 0) >= 13);
console.log(`training faces: ${training.length} (${training.filter((sample) => sample.male).length} male); held-out UTKFace faces: ${heldOut.length}`);
console.log(`fitted weights: ${JSON.stringify({ genderAge: round(weights.genderAge), faceRes: round(weights.faceRes), bias: round(weights.bias) })}`);
console.log(`training ${FOLDS}-fold CV accuracy ${fixed(foldCorrect / training.length)}; genderage alone ${fixed(accuracy(training, { genderAge: 1, faceRes: 0, bias: 0 }))}, FaceRes alone ${fixed(accuracy(training, { genderAge: 0, faceRes: 1, bias: 0 }))}`);
for (const [name, candidate] of [['fitted now', weights], ['in the code', GENDER_FUSION_WEIGHTS]] as const) {
  console.log(`held-out UTKFace, ${name}: accuracy ${fixed(accuracy(heldOut, candidate))}, ages ≥ 13 ${fixed(accuracy(adults, candidate))}`);
}
console.log(`held-out UTKFace, genderage alone: ${fixed(accuracy(heldOut, { genderAge: 1, faceRes: 0, bias: 0 }))}; FaceRes alone ${fixed(accuracy(heldOut, { genderAge: 0, faceRes: 1, bias: 0 }))}`);
