#!/usr/bin/env node
// Packs the app offline with electron-builder (`--linux dir`) against a stand-in Electron
// distribution (a shell script carrying a fuse wire, since the real binary cannot be downloaded
// here), then audits the result: app.asar holds the built app and nothing else (no sources,
// tests, fixtures, source maps, devDependencies), native addons are unpacked, and the fuses were
// flipped as electron-builder.yml says. Run after `node scripts/build.mjs`.
//
// Usage: node scripts/check-package.mjs [--project <dir>] [--keep]
//   --project  the project to pack (default: this repository)
//   --keep     keep the temporary output folder and print its path
// Exit status: 0 all checks passed, 1 a check failed, 2 could not pack (missing dist/, builder error).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ELECTRON_VERSION = '45.5.0';
// @electron/fuses: sentinel, wire version 1, then one byte per fuse ('0' off, '1' on).
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const FUSE_NAMES = [
  'runAsNode',
  'enableCookieEncryption',
  'enableNodeOptionsEnvironmentVariable',
  'enableNodeCliInspectArguments',
  'enableEmbeddedAsarIntegrityValidation',
  'onlyLoadAppFromAsar',
  'loadBrowserProcessSpecificV8Snapshot',
  'grantFileProtocolExtraPrivileges',
];
// Electron's defaults, so the stand-in starts where a real binary does.
const DEFAULT_WIRE = '10110001';
const EXPECTED_FUSES = {
  runAsNode: false,
  enableCookieEncryption: true,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  grantFileProtocolExtraPrivileges: false,
};
const REQUIRED_IN_ASAR = [
  'package.json',
  'dist/main/electron-main.cjs',
  'dist/main/job-worker.cjs',
  'dist/preload/preload.cjs',
  'dist/renderer/index.html',
];
const DEV_ONLY_PACKAGES = [
  'electron',
  'electron-builder',
  'app-builder-lib',
  'typescript',
  'esbuild',
  'vite',
  'vitest',
  'eslint',
  '@playwright/test',
  'playwright',
  'tsx',
  'prettier',
  'fast-check',
];

// ---------------------------------------------------------------------------------------------

const args = process.argv.slice(2);
const argValue = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const projectDir = path.resolve(argValue('--project') ?? repoRoot);
const keep = args.includes('--keep');

const failures = [];
const notes = [];
const check = (ok, message) => {
  if (!ok) failures.push(message);
  return ok;
};

function fatal(message) {
  console.error(`check-package: ${message}`);
  process.exit(2);
}

for (const rel of REQUIRED_IN_ASAR.filter((p) => p.startsWith('dist/'))) {
  if (!existsSync(path.join(projectDir, rel)))
    fatal(`${path.join(projectDir, rel)} is missing: run \`node scripts/build.mjs\` first`);
}
const builderCli = path.join(projectDir, 'node_modules', 'electron-builder', 'cli.js');
if (!existsSync(builderCli)) fatal(`electron-builder is not installed (${builderCli})`);
const requireFromProject = createRequire(path.join(projectDir, 'package.json'));
let asar;
try {
  asar = requireFromProject('@electron/asar');
} catch (err) {
  fatal(`@electron/asar (installed with electron-builder) cannot be loaded: ${err.message}`);
}

// ---------------------------------------------------------------------------------------------
// Stand-in Electron distribution
// ---------------------------------------------------------------------------------------------

const tmp = mkdtempSync(path.join(os.tmpdir(), 'cfs-check-package-'));
const cleanup = () => {
  if (!keep) rmSync(tmp, { recursive: true, force: true });
};
const electronDist = path.join(tmp, 'electron-dist');
const outDir = path.join(tmp, 'out');
{
  const fake = Buffer.concat([
    Buffer.from('#!/bin/sh\n# Stand-in for the Electron binary (packaging check only).\n# '),
    Buffer.from(FUSE_SENTINEL),
    Buffer.from([1, FUSE_NAMES.length]),
    Buffer.from(DEFAULT_WIRE),
    Buffer.from('\necho "stand-in electron: not runnable" >&2\nexit 1\n'),
  ]);
  rmSync(electronDist, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', electronDist]);
  writeFileSync(path.join(electronDist, 'electron'), fake);
  chmodSync(path.join(electronDist, 'electron'), 0o755);
  writeFileSync(path.join(electronDist, 'version'), `${ELECTRON_VERSION}\n`);
  const license = path.join(projectDir, 'node_modules', 'electron', 'LICENSE');
  if (existsSync(license)) copyFileSync(license, path.join(electronDist, 'LICENSE'));
  else writeFileSync(path.join(electronDist, 'LICENSE'), 'MIT\n');
}

// ---------------------------------------------------------------------------------------------
// Pack
// ---------------------------------------------------------------------------------------------

const t0 = Date.now();
const builder = spawnSync(
  process.execPath,
  [
    builderCli,
    '--linux',
    'dir',
    '--x64',
    '--projectDir',
    projectDir,
    '--publish',
    'never',
    `-c.electronDist=${electronDist}`,
    `-c.electronVersion=${ELECTRON_VERSION}`,
    `-c.directories.output=${outDir}`,
  ],
  {
    cwd: projectDir,
    encoding: 'utf8',
    env: {
      ...process.env,
      CSC_IDENTITY_AUTO_DISCOVERY: 'false',
      ELECTRON_BUILDER_OFFLINE: 'true',
      ELECTRON_SKIP_BINARY_DOWNLOAD: '1',
    },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 15 * 60 * 1000,
  },
);
const packSeconds = (Date.now() - t0) / 1000;
if (builder.status !== 0) {
  console.error((builder.stdout ?? '') + (builder.stderr ?? ''));
  cleanup();
  fatal(`electron-builder failed (status ${builder.status ?? builder.signal ?? builder.error?.message})`);
}
const appOutDir = path.join(outDir, 'linux-unpacked');
const resourcesDir = path.join(appOutDir, 'resources');
const archive = path.join(resourcesDir, 'app.asar');
const unpackedDir = path.join(resourcesDir, 'app.asar.unpacked');
if (!existsSync(archive)) {
  cleanup();
  fatal(`no app.asar in ${resourcesDir}`);
}

// ---------------------------------------------------------------------------------------------
// Audit app.asar
// ---------------------------------------------------------------------------------------------

const entries = asar
  .listPackage(archive, { isPack: false })
  .map((p) => p.split(path.sep).join('/').replace(/^\/+/, ''))
  .filter((p) => p.length > 0);
const entrySet = new Set(entries);
const files = entries.filter((p) => {
  try {
    return !('files' in asar.statFile(archive, p, false));
  } catch {
    return true;
  }
});

for (const rel of REQUIRED_IN_ASAR) check(entrySet.has(rel), `app.asar lacks ${rel}`);

const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString('utf8'));
check(
  pkg.main === 'dist/main/electron-main.cjs',
  `package.json main is ${JSON.stringify(pkg.main)}, expected dist/main/electron-main.cjs`,
);

const appFiles = files.filter((p) => !p.startsWith('node_modules/'));
const forbidden = [
  [/\.(ts|tsx|mts|cts)$/, 'TypeScript source'],
  [
    /^(main|preload|renderer|e2e|bench|scripts|resources|shared|src|test|tests)\//,
    'a source or resource folder (only dist/ ships)',
  ],
  [/(^|\/)fixtures?\//, 'a fixture'],
  [/\.(test|spec)\.[cm]?[jt]sx?$/, 'a test'],
  [
    /(^|\/)(tsconfig[^/]*\.json|vitest\.config\.[^/]+|playwright\.config\.[^/]+|eslint\.config\.[^/]+|electron-builder\.yml|package-lock\.json)$/,
    'a build/config file',
  ],
  [/(^|\/)\.(git|github|vscode)\//, 'a VCS/editor folder'],
];
for (const file of appFiles) {
  for (const [pattern, what] of forbidden) {
    if (pattern.test(file)) check(false, `app.asar contains ${what}: ${file}`);
  }
}
for (const file of files) {
  if (file.endsWith('.map')) check(false, `app.asar contains a source map: ${file}`);
  if (/(^|\/)(__tests__|fixtures)\//.test(file) && !file.startsWith('node_modules/'))
    check(false, `app.asar contains tests/fixtures: ${file}`);
}
const topPackages = new Set(
  files
    .filter((p) => p.startsWith('node_modules/'))
    .map((p) => {
      const parts = p.split('/');
      return parts[1]?.startsWith('@') ? `${parts[1]}/${parts[2]}` : parts[1];
    }),
);
// Every devDependency of package.json (not also a dependency) counts as dev-only too.
const pkgJson = JSON.parse(readFileSync(path.join(projectDir, 'package.json'), 'utf8'));
const devOnly = new Set([
  ...DEV_ONLY_PACKAGES,
  ...Object.keys(pkgJson.devDependencies ?? {}).filter(
    (n) => !(n in (pkgJson.dependencies ?? {})) && !n.startsWith('@types/'),
  ),
]);
for (const name of devOnly) if (name in (pkgJson.dependencies ?? {})) devOnly.delete(name);
for (const name of devOnly) check(!topPackages.has(name), `app.asar contains the devDependency ${name}`);

// Native addons must be real files beside the archive.
const findFiles = (dir, predicate, out = []) => {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) findFiles(full, predicate, out);
    else if (predicate(full)) out.push(full);
  }
  return out;
};
const unpackedNodes = findFiles(unpackedDir, (f) => f.endsWith('.node')).map((f) =>
  path.relative(unpackedDir, f).split(path.sep).join('/'),
);
const ortBinding = unpackedNodes.find((f) =>
  /^node_modules\/onnxruntime-node\/bin\/napi-v\d+\/linux\/x64\/onnxruntime_binding\.node$/.test(f),
);
check(ortBinding !== undefined, 'onnxruntime-node linux/x64 binding (.node) is not in app.asar.unpacked');
const ortLibs = findFiles(path.join(unpackedDir, 'node_modules', 'onnxruntime-node'), (f) =>
  /libonnxruntime\.so/.test(f),
);
check(ortLibs.length > 0, 'libonnxruntime.so is not unpacked beside the onnxruntime-node binding');
check(
  unpackedNodes.some((f) => /^node_modules\/@img\/sharp-linux-x64\/lib\/sharp-linux-x64[^/]*\.node$/.test(f)),
  'sharp linux-x64 binding (.node) is not in app.asar.unpacked',
);
for (const file of files) {
  if (file.endsWith('.node') && !existsSync(path.join(unpackedDir, file)))
    check(false, `native addon packed inside app.asar (cannot load): ${file}`);
}
const foreignOrt = findFiles(path.join(unpackedDir, 'node_modules', 'onnxruntime-node', 'bin'), (f) =>
  /\/(darwin|win32)\//.test(f.split(path.sep).join('/')),
);
check(
  foreignOrt.length === 0,
  `onnxruntime-node binaries of other platforms shipped (${foreignOrt.length} files)`,
);

// Fuses flipped in the packed executable.
const executable = path.join(appOutDir, typeof pkg.name === 'string' ? 'clip-fields-studio' : 'electron');
if (check(existsSync(executable), `no executable ${executable}`)) {
  const bytes = readFileSync(executable);
  const at = bytes.indexOf(FUSE_SENTINEL);
  if (check(at >= 0, 'fuse sentinel not found in the packed executable')) {
    const wire = bytes
      .subarray(at + FUSE_SENTINEL.length + 2, at + FUSE_SENTINEL.length + 2 + FUSE_NAMES.length)
      .toString('latin1');
    FUSE_NAMES.forEach((name, i) => {
      if (!(name in EXPECTED_FUSES)) return;
      const on = wire[i] === '1';
      check(
        on === EXPECTED_FUSES[name],
        `fuse ${name} is ${on ? 'on' : 'off'}, expected ${EXPECTED_FUSES[name] ? 'on' : 'off'}`,
      );
    });
    notes.push(`fuses: ${FUSE_NAMES.map((n, i) => `${n}=${wire[i] === '1' ? 'on' : 'off'}`).join(' ')}`);
  }
}

// Extra resources.
check(
  existsSync(path.join(resourcesDir, 'icons', '512x512.png')),
  'resources/icons/512x512.png not shipped as an extra resource',
);
if (existsSync(path.join(projectDir, 'resources', 'models', 'manifest.json'))) {
  check(
    existsSync(path.join(resourcesDir, 'models', 'manifest.json')),
    'resources/models/manifest.json not shipped as an extra resource',
  );
}

// ---------------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------------

const dirSize = (dir) => findFiles(dir, () => true).reduce((sum, f) => sum + statSync(f).size, 0);
const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const packageSizes = new Map();
for (const file of files) {
  if (!file.startsWith('node_modules/')) continue;
  const parts = file.split('/');
  const name = parts[1]?.startsWith('@') ? `${parts[1]}/${parts[2]}` : parts[1];
  let size = 0;
  try {
    const stat = asar.statFile(archive, file, false);
    size = stat.unpacked ? 0 : (stat.size ?? 0);
  } catch {
    size = 0;
  }
  packageSizes.set(name, (packageSizes.get(name) ?? 0) + size);
}
const largest = [...packageSizes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6);

console.log(
  `check-package: packed ${projectDir} in ${packSeconds.toFixed(1)} s (electron-builder --linux dir, stand-in Electron ${ELECTRON_VERSION})`,
);
console.log(
  `  app.asar: ${mib(statSync(archive).size)}, ${files.length} files (${appFiles.length} app files, ${topPackages.size} packages)`,
);
console.log(
  `  app.asar.unpacked: ${mib(dirSize(unpackedDir))}, native addons: ${unpackedNodes.join(', ') || 'none'}`,
);
console.log(`  largest packages inside app.asar: ${largest.map(([n, s]) => `${n} ${mib(s)}`).join(', ')}`);
console.log(
  `  app files: ${appFiles.slice(0, 12).join(', ')}${appFiles.length > 12 ? `, … (+${appFiles.length - 12})` : ''}`,
);
for (const note of notes) console.log(`  ${note}`);
if (keep) console.log(`  output kept at ${appOutDir}`);
cleanup();

if (failures.length > 0) {
  console.error(`check-package: FAILED (${failures.length})`);
  for (const f of failures) console.error(`  - ${f}`);
  process.exit(1);
}
console.log('check-package: OK');
