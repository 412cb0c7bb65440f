/**
 * The local server runs the models in worker threads (onnxruntime-node's session.run blocks the
 * thread that calls it; see docs/reliability.md for the load figures). The answers must be exactly
 * those of the in-process pipeline (FACEKIT_INFERENCE_WORKERS=0), options and attributes included,
 * under concurrent requests too.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EVAL_DIR, postJson, startLocalServer, type LocalServer } from '../helpers/local-server.js';

const GROUP = readFileSync(path.join(EVAL_DIR, 'unlabeled/faceapi_examples/bbt1.jpg')).toString('base64');
const PORTRAIT = readFileSync(path.join(EVAL_DIR, 'landmarks68/helen/3181052163_1.jpg')).toString('base64');
const REQUESTS = [
  { img: GROUP },
  { img: PORTRAIT, attributes: ['emotion', 'headPose', 'blur', 'smile', 'mask', 'eyeGaze'] },
  { img: GROUP, max_faces: 2, min_confidence: 0.3 },
];

let workers: LocalServer;
let inline: LocalServer;

beforeAll(async () => {
  [workers, inline] = await Promise.all([
    // One intra-op thread per session in both, so the floating-point results are bit-identical.
    startLocalServer({ FACEKIT_INFERENCE_WORKERS: '2', FACEKIT_THREADS: '2' }),
    startLocalServer({ FACEKIT_INFERENCE_WORKERS: '0', FACEKIT_THREADS: '1' }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([workers?.stop(), inline?.stop()]);
});

test('worker threads answer exactly as the in-process pipeline, also when requests overlap', async () => {
  const expected: any[] = [];
  for (const body of REQUESTS) expected.push((await postJson(`${inline.url}/face_detection`, body)).json);
  const answers = await Promise.all([...REQUESTS, ...REQUESTS].map((body) => postJson(`${workers.url}/face_detection`, body)));
  answers.forEach((answer, index) => {
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(expected[index % REQUESTS.length]);
  });
  expect(expected[1].Faces[0].attributes.headPose).toBeDefined();
  expect(expected[2].Faces).toHaveLength(2);
}, 120_000);
