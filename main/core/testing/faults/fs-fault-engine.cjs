/* eslint-disable */
'use strict';
/**
 * Fault injection at the lowest common write layer: `fs.promises.open` (every writeFileAtomic and every
 * FileHandle write), `fs.promises.writeFile`/`appendFile`, and `fs.promises.rename`. Loaded two ways:
 * - in a test process through fs-faults.ts (`installFsFaults(...)`, restorable);
 * - in a job/compute worker through NODE_OPTIONS=--require <this file>, configured by CFS_FAULT_* env vars
 *   (see workerFaultEnv in fs-faults.ts); then it installs itself at load.
 *
 * Options:
 *   code        'ENOSPC' | 'EIO' | 'EROFS' | 'ENOENT'   error for failing writes (null: no write faults)
 *   nth         the first failing write (1-based) among writes whose path contains `match`
 *   times       how many writes fail from there (default: all)
 *   match       substring the written path must contain ('' = any)
 *   delayMs     delay every matching write by this long (slows a job down deterministically)
 *   killOnRename  SIGKILL this process when a rename's source path contains this substring
 *   killSkip    let this many such renames through first
 */
const fs = require('node:fs');

function makeError(code, syscall, file) {
  const messages = {
    ENOSPC: 'no space left on device',
    EIO: 'i/o error',
    EROFS: 'read-only file system',
    ENOENT: 'no such file or directory',
  };
  const errnos = { ENOSPC: -28, EIO: -5, EROFS: -30, ENOENT: -2 };
  const err = new Error(`${code}: ${messages[code] || 'injected fault'}, ${syscall} '${file}'`);
  err.code = code;
  err.errno = errnos[code] || -1;
  err.syscall = syscall;
  err.path = String(file);
  err.injected = true;
  return err;
}

function isWriteFlags(flags) {
  if (flags === undefined || flags === null) return false;
  if (typeof flags === 'number') return (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR)) !== 0;
  return /[wa+]/.test(String(flags));
}

function install(opts) {
  const p = fs.promises;
  const orig = { open: p.open, writeFile: p.writeFile, appendFile: p.appendFile, rename: p.rename };
  const state = { writes: 0, failures: 0, hits: [], renames: 0 };
  const match = opts.match || '';
  const nth = opts.nth || 1;
  const times = opts.times === undefined || opts.times === null ? Infinity : opts.times;
  const matches = (file) => String(file).includes(match);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  async function beforeWrite(file, syscall) {
    if (!matches(file)) return;
    if (opts.delayMs) await sleep(opts.delayMs);
    if (!opts.code) return;
    state.writes++;
    if (state.writes >= nth && state.failures < times) {
      state.failures++;
      state.hits.push(String(file));
      throw makeError(opts.code, syscall, file);
    }
  }

  function wrapHandle(h, file) {
    for (const m of ['writeFile', 'write', 'appendFile', 'writev']) {
      const fn = h[m];
      if (typeof fn !== 'function') continue;
      Object.defineProperty(h, m, {
        configurable: true,
        writable: true,
        value: async function (...args) {
          await beforeWrite(file, 'write');
          return fn.apply(h, args);
        },
      });
    }
    return h;
  }

  p.open = async function (file, flags, mode) {
    const h = await orig.open.call(p, file, flags, mode);
    return isWriteFlags(flags) && matches(file) ? wrapHandle(h, file) : h;
  };
  p.writeFile = async function (file, ...rest) {
    if (typeof file === 'string' || Buffer.isBuffer(file) || file instanceof URL)
      await beforeWrite(file, 'write');
    return orig.writeFile.call(p, file, ...rest);
  };
  p.appendFile = async function (file, ...rest) {
    if (typeof file === 'string' || Buffer.isBuffer(file) || file instanceof URL)
      await beforeWrite(file, 'write');
    return orig.appendFile.call(p, file, ...rest);
  };
  p.rename = async function (from, to) {
    if (opts.killOnRename && String(from).includes(opts.killOnRename)) {
      state.renames++;
      if (state.renames > (opts.killSkip || 0)) process.kill(process.pid, 'SIGKILL');
    }
    return orig.rename.call(p, from, to);
  };
  return {
    state,
    restore() {
      Object.assign(p, orig);
    },
  };
}

function fromEnv(env) {
  const num = (v) => (v === undefined || v === '' ? undefined : Number(v));
  const code = env.CFS_FAULT_CODE || null;
  const killOnRename = env.CFS_FAULT_KILL_ON_RENAME || null;
  const delayMs = num(env.CFS_FAULT_DELAY_MS);
  if (!code && !killOnRename && !delayMs) return null;
  return {
    code,
    nth: num(env.CFS_FAULT_NTH),
    times: num(env.CFS_FAULT_TIMES),
    match: env.CFS_FAULT_MATCH || '',
    delayMs,
    killOnRename,
    killSkip: num(env.CFS_FAULT_KILL_SKIP),
  };
}

module.exports = { install, makeError, fromEnv };

// Loaded with --require in a worker: install from the environment.
if (require.main !== module) {
  const opts = fromEnv(process.env);
  if (opts && process.env.CFS_FAULT_AUTO === '1') install(opts);
}
