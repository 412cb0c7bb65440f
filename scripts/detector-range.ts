/**
 * `npm run eval:detector-range`: the detector's reliable range, i.e. recall against the face's size
 * *in detector input pixels*, from single passes at several input sizes over the dev WIDER photos
 * (small faces) and the 300-W close-ups (large faces). The planner (lambda/vision/planner.ts) is
 * built on the two ends this prints: below the low end faces are lost to resolution, above the
 * high end SCRFD's scores collapse (MODELS.md: faces over ~400 input px).
 * Face size = the labelled box's longer side × the pass's scale. Options: --json.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../lambda/config.js';
import { letterbox, nms, runScrfd, chooseInputSize } from '../lambda/vision/scrfd.js';
import { getSession } from '../lambda/vision/session.js';
import { boxIou, CLOSE_UP_MATCH_IOU, loadEvalImage, loadEvalSet, MATCH_IOU, toBox } from './evaluation.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
/** Pass sizes (input long side): from a quarter of SCRFD's native 640 to facekit's largest. */
const PASS_LONG_SIDES = [320, 640, 1024, 1536];
/** Bin edges, detector input px. */
export const SIZE_BIN_EDGES = [0, 6, 8, 10, 12, 14, 16, 20, 24, 32, 48, 64, 96, 128, 192, 256, 320, 384, 448, 512, 640, 800, 1024, 4096];

const config = loadConfig();
const session = await getSession(config.detector.modelFile, { modelDir: config.modelDir, intraOpThreads: config.intraOpThreads });
const bins = SIZE_BIN_EDGES.slice(0, -1).map((low, index) => ({ low, high: SIZE_BIN_EDGES[index + 1]!, faces: 0, found: 0 }));
const sets = [
  { name: 'wider', images: (await loadEvalSet('detection')).filter((image) => image.source === 'wider_val'), iou: MATCH_IOU },
  { name: '300w', images: await loadEvalSet('landmarks68'), iou: CLOSE_UP_MATCH_IOU },
];
for (const set of sets) {
  for (const image of set.images) {
    const rgb = await loadEvalImage(image, config);
    const truths = (image.faces ?? []).filter((face) => face.box && !face.ignore).map((face) => toBox(face.box!));
    if (truths.length === 0) continue;
    const whole = { x: 0, y: 0, width: rgb.width, height: rgb.height };
    for (const longSide of PASS_LONG_SIDES) {
      const input = chooseInputSize(rgb.width, rgb.height, longSide, longSide);
      const box = letterbox(whole, input);
      const found = nms(await runScrfd(session, rgb, box, config.detector.scoreThreshold, config.detector.preNmsTopK), config.detector.nmsIouThreshold)
        .map((candidate) => ({ x: candidate.x1, y: candidate.y1, width: candidate.x2 - candidate.x1, height: candidate.y2 - candidate.y1 }));
      for (const truth of truths) {
        const size = Math.max(truth.width, truth.height) * box.detScale;
        const bin = bins.find((entry) => size >= entry.low && size < entry.high);
        if (!bin) continue;
        bin.faces++;
        if (found.some((detection) => boxIou(detection, truth) >= set.iou)) bin.found++;
      }
    }
  }
}

if (values.json) {
  console.log(JSON.stringify(bins, null, 2));
} else {
  console.log(`SCRFD recall by face size in input px (passes at long side ${PASS_LONG_SIDES.join(', ')}; dev WIDER + 300-W; score ≥ ${config.detector.scoreThreshold})`);
  console.log('| input px | faces | recall |\n|---|---|---|');
  for (const bin of bins.filter((entry) => entry.faces > 0)) console.log(`| ${bin.low}–${bin.high} | ${bin.faces} | ${(bin.found / bin.faces).toFixed(3)} |`);
}
