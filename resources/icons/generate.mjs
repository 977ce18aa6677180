// Renders icon.svg to the PNG sizes electron-builder uses (run from the repo root:
// `node resources/icons/generate.mjs`). The PNGs are committed; rerun after editing the SVG.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const here = path.dirname(fileURLToPath(import.meta.url));
const svg = await readFile(path.join(here, 'icon.svg'));
for (const size of [16, 32, 48, 64, 128, 256, 512, 1024]) {
  const out = path.join(here, `${size}x${size}.png`);
  await sharp(svg, { density: Math.max(72, ((72 * size) / 1024) * 4) })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toFile(out);
  console.log(out);
}
await sharp(svg).resize(512, 512).png({ compressionLevel: 9 }).toFile(path.join(here, 'icon.png'));
