/**
 * The analysis queue over real HTTP: with one analysis slot and no queue, simultaneous valid
 * requests beyond the first are refused at once with the dialect's overload error and a
 * Retry-After header, cheap bad requests are still answered, and the server recovers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EVAL_DIR, postJson, startLocalServer, type LocalServer } from '../helpers/local-server.js';

const GROUP = readFileSync(path.join(EVAL_DIR, 'unlabeled/faceapi_examples/bbt1.jpg')).toString('base64');
let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer({ FACEKIT_MAX_CONCURRENT: '1', FACEKIT_MAX_QUEUED: '0' });
}, 60_000);

afterAll(async () => server?.stop());

test('requests beyond the slot get 503 OVERLOADED with Retry-After; the server then recovers', async () => {
  const route = `${server.url}/face_detection`;
  const send = () => fetch(route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ img: GROUP }) });
  const responses = await Promise.all([send(), send(), send(), send()]);
  const statuses = responses.map((response) => response.status).sort();
  expect(statuses[0]).toBe(200);
  expect(statuses.filter((status) => status === 503).length).toBeGreaterThanOrEqual(1);
  for (const response of responses.filter((item) => item.status === 503)) {
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ code: 'OVERLOADED' });
  }
  const bad = await postJson(route, { img: '!!' });
  expect(bad.status).toBe(400);
  const after = await postJson(route, { img: GROUP });
  expect(after.status).toBe(200);
}, 60_000);
