/**
 * The web demo served by `npm start` at `/`: sends an image to one of the API routes with fetch,
 * exactly as a client would, then draws the answer (boxes, 5 key points and the 106 points,
 * labels) on the image and shows the per-stage timings (the local server's Server-Timing header)
 * and the raw response. Bundled for the browser by scripts/build.mjs.
 */
import { FACEPP_106_NAMES } from '../api/facepp-landmarks.js';
import { ATTRIBUTE_NAMES, type AttributeName } from '../vision/types.js';

interface Point { x: number; y: number }

interface DrawnFace {
  readonly box: { x: number; y: number; width: number; height: number };
  readonly points106: readonly Point[];
  readonly labels: readonly string[];
}

interface ImageChoice { readonly file?: Blob; readonly url?: string }

interface DialectClient {
  request(image: ImageChoice, attributes: readonly AttributeName[]): Promise<{ path: string; init: RequestInit }>;
  /** The response's faces in display pixels of an image of this size. */
  faces(body: any, width: number, height: number): DrawnFace[];
}

/** The classic 5 points (eyes, nose tip, mouth corners), picked out of the 106 by their Face++ names. */
const KEY_POINT_INDICES = ['left_eye_pupil', 'right_eye_pupil', 'nose_tip', 'mouth_left_corner', 'mouth_right_corner'].map((name) => FACEPP_106_NAMES.indexOf(name));

/** Native attribute names → Face++ return_attributes names (the ones Face++ documents). */
const FACEPP_ATTRIBUTE_NAMES: Partial<Record<AttributeName, string>> = {
  emotion: 'emotion', smile: 'smiling', headPose: 'headpose', blur: 'blur', quality: 'facequality',
  eyeStatus: 'eyestatus', mouthStatus: 'mouthstatus', eyeGaze: 'eyegaze',
};

const COLOURS = { box: '#00e676', key: '#ff1744', points: '#00bcd4' };

function base64Of(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** A short text for one attribute value: the likeliest class of a distribution, numbers rounded. */
export function summarise(name: string, value: unknown): string {
  if (typeof value === 'number') return `${name} ${Number.isInteger(value) ? value : value.toFixed(2)}`;
  if (typeof value !== 'object' || value === null) return `${name} ${String(value)}`;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 0 && entries.every(([, item]) => typeof item === 'number')) {
    if ('value' in (value as object)) return `${name} ${Number((value as { value: number }).value).toFixed(1)}`;
    const numeric = entries as [string, number][];
    const isDistribution = Math.abs(numeric.reduce((sum, [, item]) => sum + item, 0) - (numeric.every(([, item]) => item <= 1) ? 1 : 100)) < 0.05;
    if (isDistribution) return `${name} ${numeric.reduce((best, item) => (item[1] > best[1] ? item : best))[0]}`;
    return `${name} ${numeric.map(([key, item]) => `${key} ${item.toFixed(0)}`).join(' ')}`;
  }
  if ('value' in (value as object)) return `${name} ${String((value as { value: unknown }).value)}`;
  return name;
}

const nativeClient: DialectClient = {
  async request(image, attributes) {
    const body = image.file ? { img: await base64Of(image.file) } : { url: image.url };
    return {
      path: '/face_detection',
      init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, ...(attributes.length ? { attributes } : {}) }) },
    };
  },
  faces(body, width, height) {
    return (body.Faces ?? []).map((face: any): DrawnFace => ({
      box: { x: face.BoundingBox.Left * width, y: face.BoundingBox.Top * height, width: face.BoundingBox.Width * width, height: face.BoundingBox.Height * height },
      points106: face.landmark_106 ?? [],
      labels: [`${face.gender} ${face.age}`, ...Object.entries(face.attributes ?? {}).map(([name, value]) => summarise(name, value))],
    }));
  },
};

const faceppClient: DialectClient = {
  async request(image, attributes) {
    const form = new FormData();
    form.append('api_key', byId<HTMLInputElement>('api-key').value);
    form.append('api_secret', byId<HTMLInputElement>('api-secret').value);
    if (image.file) form.append('image_file', image.file, 'image');
    else form.append('image_url', image.url ?? '');
    form.append('return_landmark', '2');
    form.append('calculate_all', '1');
    const names = ['gender', 'age', ...attributes.flatMap((name) => FACEPP_ATTRIBUTE_NAMES[name] ?? [])];
    form.append('return_attributes', names.join(','));
    return { path: '/facepp/v3/detect', init: { method: 'POST', body: form } };
  },
  faces(body) {
    return (body.faces ?? []).map((face: any): DrawnFace => {
      const rectangle = face.face_rectangle;
      const { gender, age, ...others } = face.attributes ?? {};
      return {
        box: { x: rectangle.left, y: rectangle.top, width: rectangle.width, height: rectangle.height },
        points106: face.landmark ? FACEPP_106_NAMES.map((name) => face.landmark[name]).filter(Boolean) : [],
        labels: [[gender?.value, age?.value].filter((item) => item !== undefined).join(' '), ...Object.entries(others).map(([name, value]) => summarise(name, value))].filter(Boolean),
      };
    });
  },
};

const CLIENTS: Record<string, DialectClient> = { native: nativeClient, facepp: faceppClient };

/** `Server-Timing: fetch;dur=12, detect;dur=80` → [["fetch", 12], ["detect", 80]]. */
export function parseServerTiming(header: string | null): [string, number][] {
  return (header ?? '').split(',').flatMap((part) => {
    const [name, ...params] = part.trim().split(';');
    const duration = params.map((param) => /^\s*dur=([\d.]+)/.exec(param)?.[1]).find(Boolean);
    return name && duration ? [[name, Number(duration)] as [string, number]] : [];
  });
}

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function loadImage(source: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error('the browser cannot display this image'));
    image.src = source;
  });
}

function draw(canvas: HTMLCanvasElement, image: HTMLImageElement | undefined, faces: readonly DrawnFace[], width: number, height: number): void {
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d')!;
  if (image) context.drawImage(image, 0, 0, width, height);
  const unit = Math.max(1, Math.round(Math.min(width, height) / 400));
  const fontSize = Math.max(12, Math.round(Math.min(width, height) / 40));
  context.font = `${fontSize}px sans-serif`;
  for (const face of faces) {
    context.strokeStyle = COLOURS.box;
    context.lineWidth = 2 * unit;
    context.strokeRect(face.box.x, face.box.y, face.box.width, face.box.height);
    const dot = (point: Point | undefined, radius: number, colour: string): void => {
      if (!point) return;
      context.fillStyle = colour;
      context.beginPath();
      context.arc(point.x, point.y, radius, 0, 2 * Math.PI);
      context.fill();
    };
    face.points106.forEach((point) => dot(point, unit, COLOURS.points));
    if (face.points106.length === FACEPP_106_NAMES.length) KEY_POINT_INDICES.forEach((index) => dot(face.points106[index], 2.5 * unit, COLOURS.key));
    // Labels above the box when they fit, else below it.
    const lineHeight = Math.round(fontSize * 1.15);
    const above = face.box.y - unit * 3 - lineHeight * (face.labels.length - 1);
    const first = above >= fontSize ? above : face.box.y + face.box.height + lineHeight;
    face.labels.forEach((label, line) => {
      const y = first + line * lineHeight;
      context.lineWidth = Math.max(2, fontSize / 6);
      context.lineJoin = 'round';
      context.strokeStyle = '#000';
      context.strokeText(label, face.box.x, y);
      context.fillStyle = COLOURS.box;
      context.fillText(label, face.box.x, y);
    });
  }
}

function setStatus(text: string, error = false): void {
  const status = byId('status');
  status.textContent = text;
  status.className = error ? 'error' : '';
}

async function detect(choice: ImageChoice): Promise<void> {
  document.body.dataset.state = 'working';
  const client = CLIENTS[byId<HTMLSelectElement>('dialect').value] ?? nativeClient;
  const attributes = ATTRIBUTE_NAMES.filter((name) => (document.querySelector(`input[name="attr"][value="${name}"]`) as HTMLInputElement | null)?.checked);
  const canvas = byId<HTMLCanvasElement>('canvas');
  setStatus('Detecting…');
  const image = await loadImage(choice.file ? URL.createObjectURL(choice.file) : choice.url ?? '').catch(() => undefined);
  const { path, init } = await client.request(choice, attributes);
  const started = performance.now();
  const response = await fetch(path, init);
  const roundTrip = performance.now() - started;
  const text = await response.text();
  let body: any;
  try { body = JSON.parse(text); } catch { body = undefined; }
  byId('raw').textContent = body === undefined ? text : JSON.stringify(body, null, 2);
  const timings = [...parseServerTiming(response.headers.get('server-timing')), ['round trip', roundTrip] as [string, number]];
  byId('timings').innerHTML = timings.map(([name, ms]) => `<tr><th>${name}</th><td>${ms.toFixed(0)} ms</td></tr>`).join('');
  const width = image?.naturalWidth ?? 640;
  const height = image?.naturalHeight ?? 360;
  const faces = response.ok && body ? client.faces(body, width, height) : [];
  draw(canvas, image, faces, width, height);
  canvas.dataset.boxes = String(faces.length);
  if (response.ok) setStatus(`${faces.length} face${faces.length === 1 ? '' : 's'} · HTTP ${response.status} · ${path}`);
  else setStatus(`HTTP ${response.status}: ${body?.message ?? body?.error_message ?? body?.msg ?? text.slice(0, 200)}`, true);
  document.body.dataset.state = response.ok ? 'drawn' : 'failed';
}

function run(choice: ImageChoice): void {
  detect(choice).catch((error: Error) => {
    setStatus(error.message, true);
    document.body.dataset.state = 'failed';
  });
}

function setUp(): void {
  byId('attributes').insertAdjacentHTML('beforeend', ATTRIBUTE_NAMES.map((name) => `<label><input type="checkbox" name="attr" value="${name}"> ${name}</label>`).join(''));
  const drop = byId('drop');
  const fileInput = byId<HTMLInputElement>('file');
  drop.addEventListener('click', () => fileInput.click());
  drop.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') fileInput.click(); });
  fileInput.addEventListener('change', () => { const file = fileInput.files?.[0]; if (file) run({ file }); });
  drop.addEventListener('dragover', (event) => { event.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const file = event.dataTransfer?.files[0];
    if (file) run({ file });
  });
  document.addEventListener('paste', (event) => {
    const file = [...(event.clipboardData?.files ?? [])].find((item) => item.type.startsWith('image/'));
    if (file) run({ file });
  });
  const dialect = byId<HTMLSelectElement>('dialect');
  dialect.addEventListener('change', () => { byId('facepp-keys').hidden = dialect.value !== 'facepp'; });
  byId('detect-url').addEventListener('click', () => {
    const url = byId<HTMLInputElement>('url').value.trim();
    if (url) run({ url });
  });
  document.body.dataset.state = 'ready';
}

setUp();
