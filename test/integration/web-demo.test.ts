/**
 * The web demo (`GET /` on the local server) in a real browser: playwright-core driving Debian's
 * Chromium (`apt-get install chromium`). A real image is uploaded through the page's file input;
 * the page calls the API like any client and draws the answer. A screenshot is saved under
 * test-output/ for a person to look at.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
/** Serves the portrait over HTTP for the "image URL" path (the server may fetch loopback URLs in tests only). */
let imageSource: http.Server;

beforeAll(async () => {
  if (!haveChromium) return;
  const portrait = readFileSync(PORTRAIT);
  imageSource = http.createServer((_request, reply) => reply.writeHead(200, { 'content-type': 'image/jpeg' }).end(portrait));
  await new Promise<void>((resolve) => imageSource.listen(0, '127.0.0.1', resolve));
  [server, browser] = await Promise.all([
    startLocalServer({ FACEKIT_TEST_ALLOW_LOOPBACK: '1' }),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  mkdirSync(OUTPUT_DIR, { recursive: true });
}, 120_000);

afterAll(async () => {
  imageSource?.close();
  await browser?.close();
  await server?.stop();
});

/** A fresh page load, so each test stands alone. */
async function openDemo(dialect: 'native' | 'facepp'): Promise<void> {
  await page.goto(`${server.url}/`);
  await page.waitForSelector('body[data-state="ready"]');
  await page.selectOption('#dialect', dialect);
  // The Face++ credentials are shown for Face++ only.
  expect(await page.isVisible('#api-key')).toBe(dialect === 'facepp');
}

/** Uploads an image through the page's file input and waits for the page to finish drawing (or failing). */
async function upload(file: string): Promise<{ state: string; boxes: number; raw: any; timings: string[]; greenPixels: number | null }> {
  await page.locator('#file').setInputFiles(file);
  return readout();
}

async function readout(): Promise<{ state: string; boxes: number; raw: any; timings: string[]; greenPixels: number | null }> {
  await page.waitForSelector('body[data-state="drawn"], body[data-state="failed"]', { timeout: 60_000 });
  return page.evaluate(() => {
    // Runs in the page; the test code is type-checked without the DOM library.
    const document = (globalThis as any).document;
    const canvas = document.getElementById('canvas');
    // The box colour (#00e676) is rare in photos: count it to see that boxes were drawn. An image
    // from another origin (the URL path) taints the canvas, and its pixels cannot be read back.
    let greenPixels: number | null = 0;
    try {
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let index = 0; index < pixels.length; index += 4) if (pixels[index] < 40 && pixels[index + 1] > 200 && pixels[index + 2] > 90 && pixels[index + 2] < 140) greenPixels++;
    } catch {
      greenPixels = null;
    }
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
  await openDemo('native');
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
  await openDemo('facepp');
  const shown = await upload(PORTRAIT);
  expect(shown.state).toBe('drawn');
  expect(shown.raw.faces).toHaveLength(1);
  expect(Object.keys(shown.raw.faces[0].landmark)).toHaveLength(106);
  expect(shown.boxes).toBe(1);
  expect(shown.greenPixels).toBeGreaterThan(100);
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'web-demo-facepp.png'), fullPage: true });
}, 120_000);

browserTest('an image URL: the server fetches it, the page draws the answer', async () => {
  await openDemo('native');
  await page.fill('#url', `http://127.0.0.1:${(imageSource.address() as AddressInfo).port}/portrait.jpg`);
  await page.click('#detect-url');
  const shown = await readout();
  expect([shown.state, await page.textContent('#status')]).toEqual(['drawn', '1 face · HTTP 200 · /face_detection']);
  expect(shown.raw.Faces).toHaveLength(1);
  expect(shown.boxes).toBe(1);
  expect(shown.greenPixels).toBeNull(); // drawn over a cross-origin image: see the screenshot
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'web-demo-url.png') });
}, 60_000);

browserTest('a file that is not an image: the error in the caller\'s dialect is shown, nothing is drawn', async () => {
  await openDemo('native');
  await page.locator('#file').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image') });
  await page.waitForSelector('body[data-state="failed"]', { timeout: 60_000 });
  expect(await page.textContent('#status')).toMatch(/^HTTP 400: /);
  expect(await page.getAttribute('#canvas', 'data-boxes')).toBe('0');
}, 60_000);
