/**
 * Resizing decoded pixels with libvips (sharp): the detector's input, where a pass enlarges or
 * shrinks a whole photo. libvips resamples in native code on its own threads, several times
 * faster than a bilinear loop in JavaScript; its kernels anti-alias when shrinking
 * (https://sharp.pixelplumbing.com/api-resize).
 */
import sharp, { type KernelEnum } from 'sharp';
import type { RgbImage } from './types.js';

export type ResizeKernel = keyof KernelEnum;

/** An integer-pixel rectangle of an image. */
export interface PixelRegion { readonly x: number; readonly y: number; readonly width: number; readonly height: number }

/** `region` of `image` resized to exactly `width` × `height`. */
export async function resizeRegion(image: RgbImage, region: PixelRegion, width: number, height: number, kernel: ResizeKernel): Promise<RgbImage> {
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  const whole = region.x === 0 && region.y === 0 && region.width === image.width && region.height === image.height;
  if (!whole) pipeline = pipeline.extract({ left: region.x, top: region.y, width: region.width, height: region.height });
  const { data, info } = await pipeline.resize(width, height, { fit: 'fill', kernel }).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
