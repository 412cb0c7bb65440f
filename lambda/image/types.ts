/** What the image layer hands to the vision pipeline: packed 8-bit RGB in display orientation. */
export interface RgbImage {
  /** width × height × 3 bytes, row-major, RGB. */
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

/** Where an image comes from, as a dialect parsed it. `field` names the request field for errors. */
export type ImageInput =
  | { readonly kind: 'bytes'; readonly bytes: Buffer; readonly field: string }
  | { readonly kind: 'base64'; readonly base64: string; readonly field: string }
  | { readonly kind: 'url'; readonly url: string; readonly field: string };
