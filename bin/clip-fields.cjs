#!/usr/bin/env node
// The `clip-fields` command. In a source checkout it runs the TypeScript through tsx (always current) in a
// child Node process with tsx's loader; in a packaged or built install it runs the bundle in dist/main/cli.cjs.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { spawn } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const source = path.join(root, 'main', 'cli', 'main.ts');
const bundle = path.join(root, 'dist', 'main', 'cli.cjs');

function hasTsx() {
  try {
    require.resolve('tsx', { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

if (fs.existsSync(source) && process.env.CLIP_FIELDS_USE_DIST !== '1' && hasTsx()) {
  const child = spawn(process.execPath, ['--import', 'tsx', source, ...process.argv.slice(2)], {
    stdio: 'inherit',
    cwd: process.cwd(),
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else if (fs.existsSync(bundle)) {
  const { runCli } = require(bundle);
  runCli(process.argv.slice(2), {
    out: (line) => process.stdout.write(line + '\n'),
    err: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stderr.isTTY),
  }).then((code) => {
    process.exitCode = code;
  });
} else {
  process.stderr.write('clip-fields: error: not built (run `npm run build`)\n');
  process.exit(1);
}
