/**
 * Regenerate the tiny ONNX test models and tokenizers in resources/fixtures/models/ (committed fixtures).
 * Usage: npx tsx scripts/gen-tiny-models.ts [outDir]
 */
import * as path from 'node:path';
import { writeTinyModels } from '../main/core/models/tiny';

const out = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'resources', 'fixtures', 'models'));
writeTinyModels(out).then(
  (bytes) => console.log(`wrote tiny models to ${out} (${(bytes / 1024).toFixed(1)} KiB)`),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
