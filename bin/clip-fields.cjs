#!/usr/bin/env node
// The `clip-fields` command. In a source checkout it runs the TypeScript through tsx (always current);
// in a packaged or built install it runs the bundle in dist/main/cli.cjs.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const root = path.resolve(__dirname, '..');
const source = path.join(root, 'main', 'cli', 'main.ts');
const bundle = path.join(root, 'dist', 'main', 'cli.cjs');

let useSource = fs.existsSync(source) && process.env.CLIP_FIELDS_USE_DIST !== '1';
if (useSource) {
  try {
    require.resolve('tsx/cjs', { paths: [root] });
  } catch {
    useSource = false;
  }
}
if (useSource) {
  require(require.resolve('tsx/cjs', { paths: [root] }));
  const { runCli } = require(source);
  run(runCli);
} else if (fs.existsSync(bundle)) {
  const { runCli } = require(bundle);
  run(runCli);
} else {
  process.stderr.write('clip-fields: error: not built (run `npm run build`)\n');
  process.exit(1);
}

function run(runCli) {
  runCli(process.argv.slice(2), {
    out: (line) => process.stdout.write(line + '\n'),
    err: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stderr.isTTY),
  }).then((code) => {
    process.exitCode = code;
  });
}
