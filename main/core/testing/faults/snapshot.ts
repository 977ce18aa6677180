/** Byte-level snapshots of folders, to prove "untouched" and "no stray temp files". */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';

/** relative path -> sha256 of every regular file under `dir` (folders as `<rel>/`), skipping `exclude` prefixes. */
export async function snapshotDir(dir: string, exclude: string[] = []): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (exclude.some((x) => r === x || r.startsWith(`${x}/`))) continue;
      if (e.isDirectory()) {
        out.set(`${r}/`, 'dir');
        await walk(r);
      } else if (e.isFile()) {
        out.set(
          r,
          createHash('sha256')
            .update(await fs.readFile(path.join(dir, r)))
            .digest('hex'),
        );
      } else out.set(r, 'other');
    }
  };
  await walk('');
  return out;
}

/** Differences between two snapshots, as readable lines (empty = identical). */
export function diffSnapshots(before: Map<string, string>, after: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [k, v] of before) {
    if (!after.has(k)) lines.push(`- ${k}`);
    else if (after.get(k) !== v) lines.push(`~ ${k}`);
  }
  for (const k of after.keys()) if (!before.has(k)) lines.push(`+ ${k}`);
  return lines;
}

/** Leftovers of interrupted atomic writes anywhere under `dir`: `.*.tmp`, `.staging-*`, `*.old-<hex>`, `*.<pid>.tmp`. */
export async function strayTemps(dir: string): Promise<string[]> {
  const snap = await snapshotDir(dir);
  return [...snap.keys()].filter((rel) => {
    const name = path.posix.basename(rel.replace(/\/$/, ''));
    return (
      (name.startsWith('.') && name.endsWith('.tmp')) ||
      name.startsWith('.staging-') ||
      /\.old-[0-9a-f]{8}$/.test(name) ||
      /\.\d+\.tmp$/.test(name)
    );
  });
}
