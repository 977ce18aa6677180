import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DiskSpaceError, writeFileAtomic, writeJsonAtomic } from './atomic';
import { installFsFaults } from '../testing/faults/fs-faults';
import { FAULTS_ENABLED, tempBase } from '../testing/faults/harness';
import { strayTemps } from '../testing/faults/snapshot';

let base: string;
beforeAll(async () => {
  base = await tempBase('atomic');
});
afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

describe.skipIf(!FAULTS_ENABLED)('writeFileAtomic under injected write faults', () => {
  for (const code of ['ENOSPC', 'EIO'] as const) {
    it(`${code} at the write leaves the old file byte-identical and no temp file`, async () => {
      const file = path.join(base, `${code}.json`);
      await writeJsonAtomic(file, { version: 'old', data: 'x'.repeat(1000) });
      const before = await fs.readFile(file);
      const faults = installFsFaults({ code, match: base });
      try {
        const err = await writeFileAtomic(file, 'new content '.repeat(5000)).then(
          () => null,
          (e: unknown) => e as NodeJS.ErrnoException,
        );
        expect(err?.code).toBe(code);
        if (code === 'ENOSPC') {
          // The clear message: the file, how much it needs, how much is free.
          expect(err).toBeInstanceOf(DiskSpaceError);
          expect(err!.message).toMatch(
            new RegExp(
              `${code === 'ENOSPC' ? 'not enough disk space to write' : ''}.*${path.basename(file)}: needs 58\\.6 KiB, [0-9.]+ (B|KiB|MiB|GiB|TiB) free`,
            ),
          );
        }
      } finally {
        faults.restore();
      }
      expect(await fs.readFile(file)).toEqual(before);
      expect(await strayTemps(base)).toEqual([]);
    });
  }

  it('fails exactly the Nth write and not the ones before or after it', async () => {
    const files = Array.from({ length: 5 }, (_, i) => path.join(base, `nth-${i}.txt`));
    const faults = installFsFaults({ code: 'ENOSPC', nth: 3, times: 1, match: 'nth-' });
    const outcomes: string[] = [];
    try {
      for (const f of files)
        outcomes.push(
          await writeFileAtomic(f, 'data').then(
            () => 'ok',
            (e: NodeJS.ErrnoException) => e.code ?? 'error',
          ),
        );
    } finally {
      faults.restore();
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ENOSPC', 'ok', 'ok']);
    await expect(fs.access(files[2]!)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await strayTemps(base)).toEqual([]);
  });
});

describe.skipIf(!FAULTS_ENABLED)('two processes saving the same file', () => {
  it('a reader only ever sees one whole version, never a mix', async () => {
    const file = path.join(base, 'contended.json');
    const BYTES = 256 * 1024;
    const COUNT = 60;
    await writeFileAtomic(file, JSON.stringify({ writer: 'a', seq: -1, payload: 'a'.repeat(BYTES) }));
    const script = path.resolve(__dirname, '..', 'testing', 'faults', 'atomic-hammer.ts');
    const start = (tag: string) =>
      new Promise<number>((resolve, reject) => {
        const child = fork(script, [file, tag, String(COUNT), String(BYTES)], {
          execArgv: ['--import', 'tsx'],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        child.on('error', reject);
        child.on('exit', (code) => resolve(code ?? -1));
      });
    const writers = Promise.all([start('a'), start('b')]);
    let finished = false;
    void writers.finally(() => (finished = true));
    const seen = { a: 0, b: 0 };
    let reads = 0;
    let lastSeq = { a: -2, b: -2 };
    while (!finished) {
      const text = await fs.readFile(file, 'utf8');
      reads++;
      const doc = JSON.parse(text) as { writer: 'a' | 'b'; seq: number; payload: string };
      expect(doc.payload.length).toBe(BYTES);
      expect(doc.payload).toBe(doc.writer.repeat(BYTES));
      // Versions of one writer appear in order (rename replaces whole files; no stale mix).
      expect(doc.seq).toBeGreaterThanOrEqual(lastSeq[doc.writer] === -2 ? -1 : lastSeq[doc.writer]);
      lastSeq = { ...lastSeq, [doc.writer]: doc.seq };
      seen[doc.writer]++;
    }
    expect(await writers).toEqual([0, 0]);
    const final = JSON.parse(await fs.readFile(file, 'utf8')) as {
      writer: string;
      seq: number;
      payload: string;
    };
    expect(final.seq).toBe(COUNT - 1);
    expect(final.payload).toBe(final.writer.repeat(BYTES));
    expect(reads).toBeGreaterThan(10);
    expect(seen.a + seen.b).toBe(reads);
    expect(seen.b).toBeGreaterThan(0);
    expect(await strayTemps(base)).toEqual([]);
  }, 60_000);
});
