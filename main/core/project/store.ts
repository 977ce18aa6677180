import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LabelSummarySchema, type LabelSummary, type ProjectSummary } from '../../../preload/contract';
import { writeJsonAtomic, cleanStaleTemps } from '../util/atomic';
import { Mutex } from '../util/mutex';
import {
  PROJECT_FILE,
  PROJECT_SCHEMA_VERSION,
  ProjectError,
  ProjectFileSchema,
  parseProjectDocument,
  type ProjectFile,
} from './schema';

export const APP_VERSION = '0.1.0';

const locks = new Map<string, Mutex>();
function lockFor(dir: string): Mutex {
  const key = path.resolve(dir);
  let m = locks.get(key);
  if (!m) {
    m = new Mutex();
    locks.set(key, m);
  }
  return m;
}

export function projectFilePath(dir: string): string {
  return path.join(dir, PROJECT_FILE);
}

/** Create a new project folder (the folder may exist but must not already hold a project). */
export async function createProject(dir: string, name?: string): Promise<ProjectFile> {
  const abs = path.resolve(dir);
  const file = projectFilePath(abs);
  try {
    await fs.access(file);
    throw new ProjectError('CONFLICT', file, 'a project already exists here; open it instead');
  } catch (err) {
    if (err instanceof ProjectError) throw err;
  }
  try {
    await fs.mkdir(abs, { recursive: true });
  } catch (err) {
    throw new ProjectError('IO', abs, `cannot create the project folder (${(err as Error).message})`);
  }
  const project: ProjectFile = {
    schemaVersion: PROJECT_SCHEMA_VERSION,
    name: name?.trim() || path.basename(abs) || 'project',
    created_at: new Date().toISOString(),
    app_version: APP_VERSION,
    capture: null,
    map: null,
    map_from_world: null,
    sections: {},
  };
  await writeJsonAtomic(file, project);
  return project;
}

/** Read a project, migrating older versions in memory (use `openProject` to persist the migration). */
export async function readProject(
  dir: string,
): Promise<{ project: ProjectFile; migratedFrom: number | null }> {
  const file = projectFilePath(path.resolve(dir));
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new ProjectError('NOT_FOUND', file, 'no project here (project.json is missing)');
    throw new ProjectError('IO', file, `cannot read (${(err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ProjectError('INVALID_INPUT', file, `not valid JSON (${(err as Error).message})`);
  }
  return parseProjectDocument(raw, file);
}

/**
 * Open a project: clean leftovers of interrupted writes, migrate older files (keeping a backup
 * `project.json.v<N>.bak` of the original), and return it.
 */
export async function openProject(dir: string): Promise<ProjectFile> {
  const abs = path.resolve(dir);
  return lockFor(abs).run(async () => {
    await cleanStaleTemps(abs);
    const { project, migratedFrom } = await readProject(abs);
    if (migratedFrom !== null) {
      const file = projectFilePath(abs);
      const backup = `${file}.v${migratedFrom}.bak`;
      await fs.copyFile(file, backup);
      await writeJsonAtomic(file, project);
    }
    return project;
  });
}

/** Read-modify-write project.json under a per-folder lock; the write is atomic. */
export async function updateProject(
  dir: string,
  fn: (p: ProjectFile) => ProjectFile | void,
): Promise<ProjectFile> {
  const abs = path.resolve(dir);
  return lockFor(abs).run(async () => {
    const { project } = await readProject(abs);
    const next = fn(project) ?? project;
    const valid = ProjectFileSchema.safeParse(next);
    if (!valid.success) {
      throw new ProjectError(
        'INVALID_INPUT',
        projectFilePath(abs),
        `refusing to write an invalid project: ${valid.error.issues[0]?.message ?? ''}`,
      );
    }
    await writeJsonAtomic(projectFilePath(abs), valid.data);
    return valid.data;
  });
}

function labelSummaryOf(p: ProjectFile): LabelSummary | null {
  const r = LabelSummarySchema.safeParse(p.sections['labels']);
  return r.success ? r.data : null;
}

export function summarize(dir: string, p: ProjectFile): ProjectSummary {
  return {
    dir: path.resolve(dir),
    name: p.name,
    schemaVersion: p.schemaVersion,
    created_at: p.created_at,
    capture: p.capture,
    map: p.map,
    labels: labelSummaryOf(p),
  };
}
