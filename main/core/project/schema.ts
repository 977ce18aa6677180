/**
 * project.json: the versioned description of a map project.
 *
 * Every change of shape bumps PROJECT_SCHEMA_VERSION and adds a pure migration from the previous version,
 * so any project written by an older app opens (and is backed up before it is rewritten), and a project
 * written by a newer app is refused with a clear message rather than damaged.
 */
import { z } from 'zod';
import { CaptureSummarySchema, MapSummarySchema } from '../../../preload/contract';

export const PROJECT_FILE = 'project.json';
export const PROJECT_SCHEMA_VERSION = 2;

const vec3 = z.tuple([z.number(), z.number(), z.number()]);

/** Current shape (version 2). */
export const ProjectFileSchema = z.object({
  schemaVersion: z.literal(PROJECT_SCHEMA_VERSION),
  name: z.string().min(1).max(200),
  created_at: z.string(),
  app_version: z.string(),
  capture: CaptureSummarySchema.nullable(),
  map: MapSummarySchema.nullable(),
  /** Robot map frame: 4x4 row-major transform from the capture's world frame (y-up) to the map frame (z-up). */
  map_from_world: z.array(z.number()).length(16).nullable(),
  /** Free-form sections that later capabilities own (labels, field, queries, waypoints). */
  sections: z.record(z.string(), z.unknown()),
});
export type ProjectFile = z.infer<typeof ProjectFileSchema>;

/** Version 1 (the first release): no map frame, no sections. */
export const ProjectFileV1Schema = z.object({
  schemaVersion: z.literal(1),
  name: z.string(),
  created_at: z.string(),
  app_version: z.string(),
  capture: z.unknown().nullable(),
  map: z.unknown().nullable(),
});

export class ProjectError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'INVALID_INPUT' | 'UNSUPPORTED' | 'IO' | 'CONFLICT',
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ProjectError';
  }
}

type Migration = (doc: Record<string, unknown>) => Record<string, unknown>;

/** migrations[n] takes a version-n document to version n+1. Pure functions: no I/O. */
export const migrations: Record<number, Migration> = {
  1: (doc) => ({
    ...doc,
    schemaVersion: 2,
    map_from_world: null,
    sections: {},
  }),
};

export function vec3Of(v: unknown): [number, number, number] | null {
  const r = vec3.safeParse(v);
  return r.success ? r.data : null;
}

/**
 * Parse and migrate a project document. Throws ProjectError naming `file` when the document is not a
 * project, is from a newer app, or does not validate after migration.
 */
export function parseProjectDocument(
  raw: unknown,
  file: string,
): { project: ProjectFile; migratedFrom: number | null } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ProjectError('INVALID_INPUT', file, 'not a JSON object');
  }
  let doc = raw as Record<string, unknown>;
  const version = doc['schemaVersion'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new ProjectError('INVALID_INPUT', file, 'missing or invalid integer "schemaVersion"');
  }
  if (version > PROJECT_SCHEMA_VERSION) {
    throw new ProjectError(
      'UNSUPPORTED',
      file,
      `was written by a newer CLIP-Fields Studio (schemaVersion ${version}; this app reads up to ${PROJECT_SCHEMA_VERSION}). Update the app to open it.`,
    );
  }
  let v = version;
  while (v < PROJECT_SCHEMA_VERSION) {
    const m = migrations[v];
    if (!m) throw new ProjectError('UNSUPPORTED', file, `no migration from schemaVersion ${v}`);
    if (v === 1) {
      const r = ProjectFileV1Schema.safeParse(doc);
      if (!r.success)
        throw new ProjectError(
          'INVALID_INPUT',
          file,
          `invalid version-1 project: ${r.error.issues[0]?.message ?? ''}`,
        );
    }
    doc = m(doc);
    v += 1;
  }
  const parsed = ProjectFileSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProjectError(
      'INVALID_INPUT',
      file,
      `invalid project: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown'}`,
    );
  }
  return { project: parsed.data, migratedFrom: version === PROJECT_SCHEMA_VERSION ? null : version };
}
