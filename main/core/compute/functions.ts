/**
 * Functions the compute worker runs by name. Each takes plain (structured-clone) arguments and returns data plus
 * the ArrayBuffers to transfer. Register new interactive computations here.
 */
import { z } from 'zod';
import { LabelEditSchema } from '../../../preload/contract';

export type ComputeFn = (args: unknown) => Promise<{ data: unknown; transfer?: ArrayBuffer[] }>;

const project = z.object({ projectDir: z.string() });

const q = () => import('../query/service');
const waypointsState = async (projectDir: string) => ({ data: await (await q()).waypointsView(projectDir) });
const mapPose = z.object({ x_m: z.number(), y_m: z.number(), yaw_rad: z.number() });

export const computeFunctions: Record<string, ComputeFn> = {
  'query.run': async (a) => {
    const p = project
      .extend({
        text: z.string(),
        mode: z.enum(['auto', 'semantic', 'visual']),
        weight: z.number().optional(),
        top: z.number().int(),
      })
      .parse(a);
    return {
      data: await (
        await q()
      ).runStudioQuery(p.projectDir, p.text, {
        mode: p.mode,
        top: p.top,
        ...(p.weight !== undefined ? { weight: p.weight } : {}),
      }),
    };
  },
  'query.warm': async (a) => {
    const { projectDir } = project.parse(a);
    return { data: await (await q()).warmStudioQueries(projectDir) };
  },
  'query.heatmap': async (a) => {
    const { projectDir, asset } = project.extend({ asset: z.string() }).parse(a);
    return { data: (await q()).heatmapBytes(projectDir, asset) };
  },
  'waypoints.list': async (a) => waypointsState(project.parse(a).projectDir),
  'waypoints.add': async (a) => {
    const p = project
      .extend({
        name: z.string(),
        query: z.string().optional(),
        map: mapPose.optional(),
        target_world_m: z.tuple([z.number(), z.number(), z.number()]).optional(),
        target_radius_m: z.number().optional(),
      })
      .parse(a);
    const svc = await q();
    if (p.target_world_m)
      await svc.addStudioWaypoint(p.projectDir, {
        name: p.name,
        target_world_m: p.target_world_m,
        ...(p.target_radius_m !== undefined ? { target_radius_m: p.target_radius_m } : {}),
        ...(p.query !== undefined ? { query: p.query } : {}),
      });
    else if (p.query !== undefined)
      await svc.addStudioWaypoint(p.projectDir, { name: p.name, query: p.query });
    else if (p.map) await svc.addStudioWaypoint(p.projectDir, { name: p.name, map: p.map });
    return waypointsState(p.projectDir);
  },
  'waypoints.rename': async (a) => {
    const p = project.extend({ id: z.string(), name: z.string() }).parse(a);
    await (await q()).renameWaypoint(p.projectDir, p.id, p.name);
    return waypointsState(p.projectDir);
  },
  'waypoints.move': async (a) => {
    const p = project.extend({ id: z.string(), map: mapPose }).parse(a);
    await (await q()).moveStudioWaypoint(p.projectDir, p.id, p.map);
    return waypointsState(p.projectDir);
  },
  'waypoints.reorder': async (a) => {
    const p = project.extend({ ids: z.array(z.string()) }).parse(a);
    await (await q()).reorderWaypoints(p.projectDir, p.ids);
    return waypointsState(p.projectDir);
  },
  'waypoints.delete': async (a) => {
    const p = project.extend({ id: z.string() }).parse(a);
    await (await q()).deleteWaypoint(p.projectDir, p.id);
    return waypointsState(p.projectDir);
  },
  'waypoints.export': async (a) => {
    const p = project
      .extend({
        format: z.enum(['json', 'nav2', 'csv', 'occupancy', 'ply']),
        out: z.string(),
        query: z.string().optional(),
      })
      .parse(a);
    return { data: await (await q()).exportStudio(p.projectDir, p.format, p.out, p.query) };
  },
  'waypoints.send': async (a) => {
    const p = project
      .extend({ url: z.string(), topic: z.string().optional(), action: z.boolean().optional() })
      .parse(a);
    const r = await (
      await q()
    ).sendWaypoints(p.projectDir, p.url, {
      ...(p.topic ? { topic: p.topic } : {}),
      ...(p.action !== undefined ? { action: p.action } : {}),
    });
    return { data: { url: r.url, topic: r.topic, published: r.published } };
  },
  'mapframe.set': async (a) => {
    const p = project.extend({ origin_m: z.tuple([z.number(), z.number()]), yaw_rad: z.number() }).parse(a);
    await (await q()).setMapFrame(p.projectDir, { origin_m: p.origin_m, yaw_rad: p.yaw_rad });
    return waypointsState(p.projectDir);
  },
  'field.top-labels': async (a) => ({ data: await (await q()).topLabelsBinary(project.parse(a).projectDir) }),
  'report.generate': async (a) => {
    const { projectDir } = project.parse(a);
    const path = await import('node:path');
    const { writeReport, ReportError } = await import('../report/report');
    const r = await writeReport({ projectDir, out: path.join(projectDir, 'report', 'report.html') }).catch(
      (err: unknown) => {
        if (err instanceof ReportError) {
          throw Object.assign(
            new Error(
              `${err.message} — run an evaluation first (Report ▸ Run evaluation, or clip-fields eval --project DIR)`,
            ),
            { code: 'NOT_FOUND' },
          );
        }
        throw err;
      },
    );
    return { data: { asset: 'report/report.html', bytes: r.bytes } };
  },
  'goals.occupancy': async (a) => ({ data: await (await q()).occupancyBinary(project.parse(a).projectDir) }),
  'field.status': async (a) => {
    const { projectDir } = project.parse(a);
    return { data: await (await import('../field/status')).fieldStatus(projectDir) };
  },
  'labels.overview': async (a) => {
    const { projectDir } = project.parse(a);
    return { data: await (await import('../labeling/service')).labelsOverview(projectDir) };
  },
  'labels.frame': async (a) => {
    const { projectDir, frame } = project.extend({ frame: z.number().int() }).parse(a);
    return { data: await (await import('../labeling/service')).frameDetections(projectDir, frame) };
  },
  'labels.edit': async (a) => {
    const { projectDir, edit } = project.extend({ edit: LabelEditSchema }).parse(a);
    return { data: await (await import('../labeling/service')).addLabelEdit(projectDir, edit) };
  },
  'labels.undo': async (a) => {
    const { projectDir } = project.parse(a);
    return { data: await (await import('../labeling/service')).undoLabelEdit(projectDir) };
  },
  'labels.objects': async (a) => {
    const { projectDir } = project.parse(a);
    return { data: await (await import('../labeling/service')).labelObjects(projectDir) };
  },
  'labels.points': async (a) => {
    const { projectDir } = project.parse(a);
    const bytes = await (await import('../labeling/service')).labeledPointsBinary(projectDir);
    return { data: bytes, transfer: [bytes.buffer as ArrayBuffer] };
  },
};
