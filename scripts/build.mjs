#!/usr/bin/env node
// Builds everything `npm start`, the CLI bundle and packaging need:
//   dist/main/{cli,job-worker,electron-main}.cjs (esbuild), dist/preload/preload.cjs, dist/renderer (vite).
// Usage: node scripts/build.mjs [--main-only] [--renderer-only]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const t0 = Date.now();

if (!args.has('--renderer-only')) {
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: false,
    logLevel: 'warning',
    absWorkingDir: root,
    // node_modules ship beside the bundle (native modules cannot be bundled).
    packages: 'external',
  };
  const mainEntries = [
    ['main/cli/main.ts', 'dist/main/cli.cjs'],
    ['main/workers/job-worker.ts', 'dist/main/job-worker.cjs'],
    ['main/workers/compute-worker.ts', 'dist/main/compute-worker.cjs'],
  ];
  if (existsSync(path.join(root, 'main/hosts/electron/main.ts')))
    mainEntries.push(['main/hosts/electron/main.ts', 'dist/main/electron-main.cjs']);
  for (const [entry, outfile] of mainEntries) {
    await build({ ...common, entryPoints: [entry], outfile, external: ['electron'] });
  }
  if (existsSync(path.join(root, 'preload/index.ts'))) {
    // The sandboxed preload cannot require anything but electron: bundle everything else in.
    await build({
      ...common,
      packages: undefined,
      entryPoints: ['preload/index.ts'],
      outfile: 'dist/preload/preload.cjs',
      external: ['electron'],
      platform: 'node',
    });
  }
  mkdirSync(path.join(root, 'dist'), { recursive: true });
}

if (!args.has('--main-only')) {
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error('build: renderer build failed');
    process.exit(r.status ?? 1);
  }
}
writeFileSync(path.join(root, 'dist', 'BUILD_STAMP'), new Date().toISOString() + '\n');
console.log(`build: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
