/** Export formats of the Waypoints pane and the file each writes in the chosen folder. Pure. */
export type ExportFormat = 'json' | 'nav2' | 'csv' | 'occupancy' | 'ply';

export const FORMAT_HELP: Record<ExportFormat, string> = {
  json: 'waypoints with world and map poses',
  nav2: 'Nav2 waypoint follower YAML',
  csv: 'name, x, y, yaw per line',
  occupancy: 'occupancy grid (PGM + YAML) for a ROS map server',
  ply: 'the latest query’s heatmap on the map point cloud (map frame)',
};

/** File written in the output folder per format (occupancy also writes the .pgm beside its .yaml). */
export const EXPORT_FILE: Record<ExportFormat, string> = {
  json: 'waypoints.json',
  nav2: 'waypoints_nav2.yaml',
  csv: 'waypoints.csv',
  occupancy: 'map.yaml',
  ply: 'heatmap.ply',
};

/**
 * The path main writes for a format: the folder (trailing separators dropped) joined with the format's
 * file name, using a backslash only for folders written with backslashes alone (Windows paths).
 */
export function exportTarget(folder: string, format: ExportFormat): string {
  const trimmed = folder.trim();
  const dir = trimmed.replace(/[\\/]+$/, '');
  const sep = trimmed.includes('\\') && !trimmed.includes('/') ? '\\' : '/';
  return `${dir}${sep}${EXPORT_FILE[format]}`;
}
