import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLaunchArgs } from './launch-args';

const CWD = path.resolve('/home/op');

describe('parseLaunchArgs', () => {
  it('reads --project in both spellings, resolved against cwd', () => {
    expect(parseLaunchArgs(['--project', 'maps/kitchen'], CWD).projectDir).toBe(
      path.join(CWD, 'maps', 'kitchen'),
    );
    expect(parseLaunchArgs(['--project=/data/p'], CWD).projectDir).toBe(path.resolve('/data/p'));
  });
  it('ignores --project without a value', () => {
    expect(parseLaunchArgs(['--project'], CWD).projectDir).toBeNull();
    expect(parseLaunchArgs(['--project', '--demo'], CWD)).toEqual({
      projectDir: null,
      demo: true,
      captures: [],
    });
  });
  it('collects .r3d files and ignores Chromium switches and other files', () => {
    const args = parseLaunchArgs(
      ['--allow-file-access-from-files', 'scan.R3D', '/abs/b.r3d', 'notes.txt', '--no-sandbox'],
      CWD,
    );
    expect(args.captures).toEqual([path.join(CWD, 'scan.R3D'), path.resolve('/abs/b.r3d')]);
    expect(args.demo).toBe(false);
  });
});
