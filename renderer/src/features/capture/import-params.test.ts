import { describe, expect, it } from 'vitest';
import { importParamsFrom } from './import-params';

const ok = { every: '2', voxel_m: '0.05', max_depth_m: '4', copy: true };

describe('importParamsFrom', () => {
  it('builds the import job params with numbers', () => {
    expect(importParamsFrom(' /data/a.r3d ', ok)).toEqual({
      params: { capture: '/data/a.r3d', every: 2, voxel_m: 0.05, max_depth_m: 4, copy: true },
    });
  });

  it('rejects values outside the contract bounds with a message', () => {
    expect(importParamsFrom('', ok)).toHaveProperty('error');
    expect(importParamsFrom('/a', { ...ok, every: '0' })).toHaveProperty('error');
    expect(importParamsFrom('/a', { ...ok, every: '1.5' })).toHaveProperty('error');
    expect(importParamsFrom('/a', { ...ok, voxel_m: '0.001' })).toHaveProperty('error');
    expect(importParamsFrom('/a', { ...ok, max_depth_m: 'abc' })).toHaveProperty('error');
  });
});
