/** Command-line arguments of the desktop app (also those a second instance forwards). No electron import. */
import path from 'node:path';

export interface LaunchArgs {
  /** `--project <dir>` / `--project=<dir>`: open (or create) this project. */
  projectDir: string | null;
  /** `--demo`: open the bundled demo project when no project is given. */
  demo: boolean;
  /** Positional `.r3d` files (file associations, drag onto the app icon), absolute. */
  captures: string[];
}

/**
 * Parses the user arguments (argv without the executable and, unpackaged, the script). Unknown
 * `--switches` (Chromium adds some) are ignored; relative paths resolve against `cwd`.
 */
export function parseLaunchArgs(argv: readonly string[], cwd: string): LaunchArgs {
  const result: LaunchArgs = { projectDir: null, demo: false, captures: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === undefined || arg.length === 0) continue;
    if (arg === '--project') {
      const next = argv[i + 1];
      if (next !== undefined && next.length > 0 && !next.startsWith('--')) {
        result.projectDir = path.resolve(cwd, next);
        i += 1;
      }
    } else if (arg.startsWith('--project=')) {
      const value = arg.slice('--project='.length);
      if (value.length > 0) result.projectDir = path.resolve(cwd, value);
    } else if (arg === '--demo') {
      result.demo = true;
    } else if (arg.startsWith('-')) {
      continue;
    } else if (arg.toLowerCase().endsWith('.r3d')) {
      result.captures.push(path.resolve(cwd, arg));
    }
  }
  return result;
}
