/** The import form's field validation, mirroring the contract's ImportParams bounds. */
export interface ImportOptions {
  every: string;
  voxel_m: string;
  max_depth_m: string;
  copy: boolean;
}

/** Validates the form fields against the contract's bounds; returns params or a message. */
export function importParamsFrom(
  capture: string,
  o: ImportOptions,
): { params: Record<string, unknown> } | { error: string } {
  const path = capture.trim();
  if (!path) return { error: 'Enter the path of a .r3d file or a capture folder.' };
  const every = Number(o.every);
  if (!Number.isInteger(every) || every < 1 || every > 1000)
    return { error: 'Every K frames must be a whole number from 1 to 1000.' };
  const voxel = Number(o.voxel_m);
  if (!Number.isFinite(voxel) || voxel < 0.002 || voxel > 1)
    return { error: 'Voxel size must be between 0.002 and 1 m.' };
  const maxDepth = Number(o.max_depth_m);
  if (!Number.isFinite(maxDepth) || maxDepth < 0.05 || maxDepth > 100)
    return { error: 'Max depth must be between 0.05 and 100 m.' };
  return { params: { capture: path, every, voxel_m: voxel, max_depth_m: maxDepth, copy: o.copy } };
}
