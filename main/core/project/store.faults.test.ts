import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { openProject, readProject, createProject } from './store';
import { PROJECT_SCHEMA_VERSION, ProjectError, ProjectFileSchema, parseProjectDocument } from './schema';
import { installFsFaults } from '../testing/faults/fs-faults';
import { FAULTS_ENABLED, tempBase } from '../testing/faults/harness';
import { checkParser, damagedBytes, mutatedJson } from '../testing/faults/properties';
import { strayTemps } from '../testing/faults/snapshot';

const FIXTURES = path.join(__dirname, '__fixtures__');
let base: string;
let n = 0;

beforeAll(async () => {
  if (FAULTS_ENABLED) base = await tempBase('project');
});
afterAll(async () => {
  if (base) await fs.rm(base, { recursive: true, force: true });
});

async function projectFrom(
  fixture: string | Uint8Array,
): Promise<{ dir: string; file: string; original: Buffer }> {
  const dir = path.join(base, `p${n++}`);
  await fs.mkdir(dir);
  const file = path.join(dir, 'project.json');
  const bytes = typeof fixture === 'string' ? await fs.readFile(path.join(FIXTURES, fixture)) : fixture;
  await fs.writeFile(file, bytes);
  return { dir, file, original: await fs.readFile(file) };
}

const pastVersions = Array.from({ length: PROJECT_SCHEMA_VERSION - 1 }, (_, i) => i + 1);

describe.skipIf(!FAULTS_ENABLED)('project migrations', () => {
  for (const v of pastVersions) {
    it(`schemaVersion ${v}: the fixture opens, migrates with a byte-identical backup, and round-trips`, async () => {
      const { dir, file, original } = await projectFrom(`project-v${v}.json`);
      const p = await openProject(dir);
      expect(p.schemaVersion).toBe(PROJECT_SCHEMA_VERSION);
      expect(ProjectFileSchema.safeParse(JSON.parse(await fs.readFile(file, 'utf8'))).success).toBe(true);
      expect(await fs.readFile(`${file}.v${v}.bak`)).toEqual(original);
      // Round trip: opening again changes nothing and makes no second backup.
      const written = await fs.readFile(file);
      expect(await openProject(dir)).toEqual(p);
      expect(await fs.readFile(file)).toEqual(written);
      expect((await fs.readdir(dir)).sort()).toEqual(['project.json', `project.json.v${v}.bak`]);
      // The fields an old project had survive.
      const old = JSON.parse(original.toString('utf8')) as { name: string; created_at: string };
      expect(p.name).toBe(old.name);
      expect(p.created_at).toBe(old.created_at);
    });
  }

  it('a project from a newer app is refused and left untouched', async () => {
    const doc = {
      ...(JSON.parse(await fs.readFile(path.join(FIXTURES, 'project-v1.json'), 'utf8')) as object),
      schemaVersion: PROJECT_SCHEMA_VERSION + 1,
      future_field: { x: 1 },
    };
    const { dir, file, original } = await projectFrom(new TextEncoder().encode(JSON.stringify(doc)));
    await expect(openProject(dir)).rejects.toMatchObject({
      name: 'ProjectError',
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/newer CLIP-Fields Studio/),
    });
    expect(await fs.readFile(file)).toEqual(original);
    expect(await fs.readdir(dir)).toEqual(['project.json']);
  });

  it('a migration whose write fails (disk full) leaves the original and the backup intact', async () => {
    const { dir, file, original } = await projectFrom('project-v1.json');
    const faults = installFsFaults({ code: 'ENOSPC', match: `${dir}${path.sep}.project.json` });
    try {
      await expect(openProject(dir)).rejects.toMatchObject({ code: 'ENOSPC' });
    } finally {
      faults.restore();
    }
    expect(await fs.readFile(file)).toEqual(original);
    expect(await fs.readFile(`${file}.v1.bak`)).toEqual(original);
    expect(await strayTemps(dir)).toEqual([]);
    // Space back: it migrates.
    expect((await openProject(dir)).schemaVersion).toBe(PROJECT_SCHEMA_VERSION);
  });

  it('an invalid old project fails its migration with a typed error and is not rewritten', async () => {
    const doc = JSON.parse(await fs.readFile(path.join(FIXTURES, 'project-v1.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    delete doc['created_at'];
    const { dir, file, original } = await projectFrom(new TextEncoder().encode(JSON.stringify(doc)));
    await expect(openProject(dir)).rejects.toMatchObject({ name: 'ProjectError', code: 'INVALID_INPUT' });
    expect(await fs.readFile(file)).toEqual(original);
    expect(await fs.readdir(dir)).toEqual(['project.json']);
  });
});

describe.skipIf(!FAULTS_ENABLED)('project file parser under generated input', () => {
  it('mutated current and old documents: a project or a ProjectError', async () => {
    const dir = path.join(base, 'valid');
    const valid = await createProject(dir, 'valid');
    const v1 = JSON.parse(await fs.readFile(path.join(FIXTURES, 'project-v1.json'), 'utf8')) as unknown;
    for (const [seed, doc] of [
      [0x9a, valid],
      [0x9b, v1],
    ] as const) {
      const stats = await checkParser(mutatedJson(doc), {
        seed,
        numRuns: 1000,
        typed: (e) => e instanceof ProjectError && e.file === 'project.json',
        parse: (d) => parseProjectDocument(d, 'project.json'),
      });
      expect(stats.typed).toBeGreaterThan(0);
    }
    // Objects are never polluted by `__proto__` keys in the documents.
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('damaged project.json bytes on disk: readProject gives a project or a ProjectError naming the file', async () => {
    const dir = path.join(base, 'damaged');
    await createProject(dir, 'damaged');
    const file = path.join(dir, 'project.json');
    const valid = new Uint8Array(await fs.readFile(file));
    await checkParser(damagedBytes(valid), {
      seed: 0x9c,
      numRuns: 1000,
      typed: (e) => e instanceof ProjectError && e.file === file,
      parse: async (bytes) => {
        await fs.writeFile(file, bytes);
        await readProject(dir);
      },
    });
  });
});
