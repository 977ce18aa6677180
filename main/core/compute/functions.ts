/**
 * Functions the compute worker runs by name. Each takes plain (structured-clone) arguments and returns data plus
 * the ArrayBuffers to transfer. Register new interactive computations here.
 */
import { z } from 'zod';
import { LabelEditSchema } from '../../../preload/contract';

export type ComputeFn = (args: unknown) => Promise<{ data: unknown; transfer?: ArrayBuffer[] }>;

const project = z.object({ projectDir: z.string() });

export const computeFunctions: Record<string, ComputeFn> = {
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
