import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic';

const RecentFileSchema = z.object({
  items: z.array(z.object({ dir: z.string(), name: z.string(), opened_at: z.string() })).max(100),
});
export type RecentItem = z.infer<typeof RecentFileSchema>['items'][number];

const MAX_RECENT = 12;

export async function readRecent(userDataDir: string): Promise<RecentItem[]> {
  try {
    const raw: unknown = JSON.parse(await fs.readFile(path.join(userDataDir, 'recent.json'), 'utf8'));
    const r = RecentFileSchema.safeParse(raw);
    return r.success ? r.data.items : [];
  } catch {
    return [];
  }
}

export async function addRecent(userDataDir: string, dir: string, name: string): Promise<RecentItem[]> {
  const abs = path.resolve(dir);
  const items = (await readRecent(userDataDir)).filter((i) => i.dir !== abs);
  items.unshift({ dir: abs, name, opened_at: new Date().toISOString() });
  const next = items.slice(0, MAX_RECENT);
  await fs.mkdir(userDataDir, { recursive: true });
  await writeJsonAtomic(path.join(userDataDir, 'recent.json'), { items: next });
  return next;
}
