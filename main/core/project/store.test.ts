import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { createProject, openProject, readProject, updateProject } from './store';
import { PROJECT_SCHEMA_VERSION, ProjectError, parseProjectDocument } from './schema';

async function tmp(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'cfs-proj-'));
}

describe('project store', () => {
  it('creates a project with the current schema version and reopens it', async () => {
    const dir = path.join(await tmp(), 'p');
    await createProject(dir, 'Lab');
    const p = await openProject(dir);
    expect(p.schemaVersion).toBe(PROJECT_SCHEMA_VERSION);
    expect(p.name).toBe('Lab');
  });

  it('refuses to create a project over an existing one', async () => {
    const dir = await tmp();
    await createProject(dir);
    await expect(createProject(dir)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('migrates a version-1 project, keeps a byte-identical backup, and round-trips', async () => {
    const dir = await tmp();
    const fixture = await fs.readFile(path.join(__dirname, '__fixtures__', 'project-v1.json'));
    await fs.writeFile(path.join(dir, 'project.json'), fixture);
    const p = await openProject(dir);
    expect(p.schemaVersion).toBe(2);
    expect(p.map_from_world).toBeNull();
    expect(p.name).toBe('Kitchen scan (v1)');
    expect(await fs.readFile(path.join(dir, 'project.json.v1.bak'))).toEqual(fixture);
    const again = await readProject(dir);
    expect(again.migratedFrom).toBeNull();
    expect(again.project).toEqual(p);
  });

  it('refuses a project written by a newer app with a message naming the file', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'project.json');
    await fs.writeFile(file, JSON.stringify({ schemaVersion: PROJECT_SCHEMA_VERSION + 1, name: 'x' }));
    const err = await openProject(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProjectError);
    expect((err as ProjectError).code).toBe('UNSUPPORTED');
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/newer/);
    // The file is left untouched.
    expect(JSON.parse(await fs.readFile(file, 'utf8')).schemaVersion).toBe(PROJECT_SCHEMA_VERSION + 1);
  });

  it('a failed migration leaves the original file intact', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'project.json');
    const bad = JSON.stringify({ schemaVersion: 1, name: 42 });
    await fs.writeFile(file, bad);
    await expect(openProject(dir)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await fs.readFile(file, 'utf8')).toBe(bad);
  });

  it('names the file when project.json is not JSON', async () => {
    const dir = await tmp();
    await fs.writeFile(path.join(dir, 'project.json'), '{ nope');
    await expect(openProject(dir)).rejects.toThrow(/project\.json: not valid JSON/);
  });

  it('removes temp files left by an interrupted write when opening', async () => {
    const dir = await tmp();
    await createProject(dir);
    const stale = path.join(dir, '.project.json.123.abcd.tmp');
    await fs.writeFile(stale, 'half');
    await openProject(dir);
    await expect(fs.access(stale)).rejects.toThrow();
  });

  it('two concurrent updates both apply; the file is always one whole version', async () => {
    const dir = await tmp();
    await createProject(dir);
    await Promise.all([
      updateProject(dir, (p) => ({ ...p, sections: { ...p.sections, a: 1 } })),
      updateProject(dir, (p) => ({ ...p, sections: { ...p.sections, b: 2 } })),
    ]);
    const { project } = await readProject(dir);
    expect(project.sections).toEqual({ a: 1, b: 2 });
  });

  it('refuses to write an invalid project', async () => {
    const dir = await tmp();
    await createProject(dir);
    await expect(updateProject(dir, (p) => ({ ...p, name: '' }))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect((await readProject(dir)).project.name.length).toBeGreaterThan(0);
  });

  it('parseProjectDocument returns a project or a ProjectError for any JSON value (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ schemaVersion: fc.integer({ min: -2, max: 5 }), name: fc.string() }),
        ),
        (v) => {
          try {
            const r = parseProjectDocument(v, 'project.json');
            expect(r.project.schemaVersion).toBe(PROJECT_SCHEMA_VERSION);
          } catch (err) {
            expect(err).toBeInstanceOf(ProjectError);
          }
        },
      ),
      { numRuns: 1000, seed: 42 },
    );
  });
});
