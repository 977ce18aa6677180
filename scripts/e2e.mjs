#!/usr/bin/env node
// `npm run test:e2e`: Playwright against the real web host and the real renderer build, in Debian's Chromium.
// Without /usr/bin/chromium the suite is skipped with a clear message — except under CI=true, where a
// missing Chromium is a failure.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!existsSync(chromium)) {
  if (process.env.CI === 'true') {
    console.error(
      `e2e: FAILED: Chromium not found at ${chromium} (CI must install the apt package "chromium").`,
    );
    process.exit(1);
  }
  console.log(
    `e2e: SKIPPED: Chromium not found at ${chromium}. Install it (apt-get install chromium) to run the browser tests.`,
  );
  process.exit(0);
}
const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);
const pw = path.join(root, 'node_modules', '@playwright', 'test', 'cli.js');
const r = spawnSync(process.execPath, [pw, 'test', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CHROMIUM_PATH: chromium },
});
process.exit(r.status ?? 1);
