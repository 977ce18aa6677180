import { describe, expect, it } from 'vitest';
import { exportTarget } from './export-target';

describe('exportTarget', () => {
  it('joins the folder and the format’s file name', () => {
    expect(exportTarget('/data/run', 'nav2')).toBe('/data/run/waypoints_nav2.yaml');
    expect(exportTarget(' /data/run/ ', 'json')).toBe('/data/run/waypoints.json');
  });
  it('writes the occupancy YAML (its PGM goes beside it)', () => {
    expect(exportTarget('/p', 'occupancy')).toBe('/p/map.yaml');
  });
  it('keeps Windows folders in backslashes', () => {
    expect(exportTarget('C:\\maps\\', 'csv')).toBe('C:\\maps\\waypoints.csv');
  });
  it('writes into the root folder', () => {
    expect(exportTarget('/', 'ply')).toBe('/heatmap.ply');
  });
});
