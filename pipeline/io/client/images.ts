/**
 * @module pipeline/io/client/images
 * Turns a problem's images into chat content parts: local png/jpeg/webp/gif files become base64
 * data URLs, http(s) and data URLs pass through. Local files must lie inside one of the allowed
 * roots (after resolving symlinks); anything else is refused with a reason, never read.
 * Memory: one image is read at a time, capped at `maxBytes` (default 20 MB).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve } from 'node:path';

import type { ImagePart, ImagePort, ImageResult } from '../../../stages/lib/ports.ts';

export type { ImagePart, ImageResult } from '../../../stages/lib/ports.ts';

/** The image port for a run: images are read only from `roots` (the input files' folders). */
export const imagePort =
  (roots: readonly string[]): ImagePort =>
  (images) =>
    imageParts(images, roots);

const MIME: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
};

/** Image content parts for `images`, or the first image that could not be used and why. */
export async function imageParts(
  images: readonly string[],
  roots: readonly string[],
  maxBytes = 20 * 1024 * 1024,
): Promise<ImageResult> {
  const parts: ImagePart[] = [];
  for (const [i, img] of images.entries()) {
    const path = `images.${i}`;
    if (/^(https?:\/\/|data:image\/)/i.test(img)) {
      parts.push({ type: 'image_url', image_url: { url: img } });
      continue;
    }
    const mime = MIME[extname(img).toLowerCase()];
    if (!mime)
      return {
        ok: false,
        path,
        message: `image ${JSON.stringify(img)} should be png, jpeg, webp or gif, got extension ${JSON.stringify(extname(img))}`,
      };
    const file = await confined(img, roots);
    if ('error' in file) return { ok: false, path, message: file.error };
    try {
      const st = await stat(file.path);
      if (!st.isFile()) return { ok: false, path, message: `image ${JSON.stringify(img)} is not a file` };
      if (st.size > maxBytes)
        return {
          ok: false,
          path,
          message: `image ${JSON.stringify(img)} is ${st.size} bytes, over the ${maxBytes}-byte limit`,
        };
      const data = await readFile(file.path);
      parts.push({ type: 'image_url', image_url: { url: `data:${mime};base64,${data.toString('base64')}` } });
    } catch (e) {
      return {
        ok: false,
        path,
        message: `image ${JSON.stringify(img)} could not be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      };
    }
  }
  return { ok: true, parts };
}

/** Resolves `img` against the first root and checks the real path stays inside a root. */
async function confined(img: string, roots: readonly string[]): Promise<{ path: string } | { error: string }> {
  if (roots.length === 0)
    return { error: `image ${JSON.stringify(img)} is a local file but no image root is configured` };
  const candidate = isAbsolute(img) ? img : resolve(roots[0]!, img);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (e) {
    return {
      error: `image ${JSON.stringify(img)} was not found (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    };
  }
  for (const root of roots) {
    const r = await realpath(root).catch(() => resolve(root));
    const rel = relative(r, real);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return { path: real };
  }
  return { error: `image ${JSON.stringify(img)} is outside the image root ${roots.join(', ')}; refusing to read it` };
}
