import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { cliReference } from '../../scripts/gen-cli-docs';

describe('docs/CLI.md', () => {
  it('matches the commands’ own help (run `npm run docs:cli` after changing the CLI)', async () => {
    const file = path.resolve(__dirname, '..', '..', 'docs', 'CLI.md');
    expect(await fs.readFile(file, 'utf8')).toBe(cliReference());
  });
});
