#!/usr/bin/env node
// `npm start`: build if needed, then open the Electron studio on the demo capture. When Electron's runtime
// cannot be had (its binary is downloaded from GitHub on first run), say so in one line and serve the same
// studio in the browser at a printed localhost URL instead.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const extra = process.argv.slice(2);

function newestMtime(dir) {
  let newest = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|tsx|css|html)$/.test(e.name) && !/\.test\.ts$/.test(e.name))
        newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const sub of ['main', 'preload', 'renderer'])
    if (existsSync(path.join(root, sub))) walk(path.join(root, sub));
  return newest;
}

const stamp = path.join(root, 'dist', 'BUILD_STAMP');
const needsBuild = !existsSync(stamp) || statSync(stamp).mtimeMs < newestMtime(root);
if (needsBuild) {
  console.log('Building the studio…');
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function electronBinary() {
  try {
    const pkgDir = path.join(root, 'node_modules', 'electron');
    const rel = readFileSync(path.join(pkgDir, 'path.txt'), 'utf8').trim();
    const bin = path.join(pkgDir, 'dist', rel);
    return existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

const electron = process.env.CLIP_FIELDS_FORCE_WEB ? null : electronBinary();
if (electron) {
  const child = spawn(electron, [root, ...extra], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(
    "Electron's runtime is not installed here (it is downloaded on first run, which this machine cannot do): serving the same studio in your browser instead.",
  );
  const child = spawn(
    process.execPath,
    [path.join(root, 'dist', 'main', 'cli.cjs'), 'serve', '--demo', ...extra],
    { stdio: 'inherit' },
  );
  const stop = () => child.kill('SIGINT');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code) => process.exit(code ?? 0));
}
