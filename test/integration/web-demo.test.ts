/**
 * The web demo (`GET /` on the local server) in a real browser: playwright-core driving Debian's
 * Chromium (`apt-get install chromium`). A real image is uploaded through the page's file input;
 * the page calls the API like any client and draws the answer. A screenshot is saved under
 * test-output/ for a person to look at.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { EVAL_DIR, REPO_ROOT, startLocalServer, type LocalServer } from '../helpers/local-server.js';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT_DIR = path.join(REPO_ROOT, 'test-output');
const GROUP = path.join(EVAL_DIR, 'unlabeled/faceapi_examples/bbt2.jpg');
const PORTRAIT = path.join(EVAL_DIR, 'landmarks68/helen/3181052163_1.jpg');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`web-demo tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
const browserTest = haveChromium ? test : test.skip;

let server: LocalServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!haveChromium) return;
  [server, browser] = await Promise.all([startLocalServer(), chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })]);
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  mkdirSync(OUTPUT_DIR, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Uploads an image through the page's file input and waits for the page to finish drawing (or failing). */
async function upload(file: string): Promise<{ state: string; boxes: number; raw: any; timings: string[]; greenPixels: number }> {
  await page.locator('#file').setInputFiles(file);
  await page.waitForSelector('body[data-state="drawn"], body[data-state="failed"]', { timeout: 60_000 });
  return page.evaluate(() => {
    // Runs in the page; the test code is type-checked without the DOM library.
    const document = (globalThis as any).document;
    const canvas = document.getElementById('canvas');
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    // The box colour (#00e676) is rare in photos: count it to see that boxes were drawn.
    let greenPixels = 0;
    for (let index = 0; index < pixels.length; index += 4) if (pixels[index] < 40 && pixels[index + 1] > 200 && pixels[index + 2] > 90 && pixels[index + 2] < 140) greenPixels++;
    return {
      state: document.body.dataset.state ?? '',
      boxes: Number(canvas.dataset.boxes),
      raw: JSON.parse(document.getElementById('raw')!.textContent ?? 'null'),
      timings: [...document.querySelectorAll('#timings th')].map((cell: { textContent: string | null }) => cell.textContent ?? ''),
      greenPixels,
    };
  });
}

browserTest('native: a group photo is drawn with one box per face in the JSON, timings and the raw response', async () => {
  await page.goto(`${server.url}/`);
  await page.waitForSelector('body[data-state="ready"]');
  expect(await page.title()).toBe('facekit demo');
  await page.check('input[name="attr"][value="emotion"]');
  const shown = await upload(GROUP);
  expect(shown.state).toBe('drawn');
  expect(shown.raw.Faces.length).toBeGreaterThanOrEqual(3);
  expect(shown.boxes).toBe(shown.raw.Faces.length);
  expect(shown.raw.Faces[0].attributes.emotion).toBeDefined();
  expect(shown.greenPixels).toBeGreaterThan(100);
  expect(shown.timings).toEqual(['fetch', 'decode', 'detect', 'landmarks', 'genderAge', 'attributes', 'total', 'round trip']);
  expect(await page.textContent('#status')).toContain(`${shown.raw.Faces.length} faces · HTTP 200 · /face_detection`);
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'web-demo-native.png'), fullPage: true });
}, 120_000);

browserTest('Face++: the same page speaks the Face++ dialect (multipart upload, 106 named points)', async () => {
  await page.selectOption('#dialect', 'facepp');
  const shown = await upload(PORTRAIT);
  expect(shown.state).toBe('drawn');
  expect(shown.raw.faces).toHaveLength(1);
  expect(Object.keys(shown.raw.faces[0].landmark)).toHaveLength(106);
  expect(shown.boxes).toBe(1);
  expect(shown.greenPixels).toBeGreaterThan(100);
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'web-demo-facepp.png'), fullPage: true });
}, 120_000);

browserTest('a file that is not an image: the error in the caller\'s dialect is shown, nothing is drawn', async () => {
  await page.selectOption('#dialect', 'native');
  await page.locator('#file').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image') });
  await page.waitForSelector('body[data-state="failed"]', { timeout: 60_000 });
  expect(await page.textContent('#status')).toMatch(/^HTTP 400: /);
  expect(await page.getAttribute('#canvas', 'data-boxes')).toBe('0');
}, 60_000);
