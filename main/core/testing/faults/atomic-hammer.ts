/**
 * Child process for the concurrent-save fault test: `node --import tsx atomic-hammer.ts <file> <tag> <count> <bytes>`
 * rewrites <file> <count> times with writeFileAtomic; every version is one JSON document whose payload is
 * <bytes> copies of the single character <tag>, so a mix of two writers is detectable.
 */
import { writeFileAtomic } from '../../util/atomic';

async function main(): Promise<void> {
  const [file, tag, countStr, bytesStr] = process.argv.slice(2);
  if (!file || !tag || tag.length !== 1) throw new Error('usage: atomic-hammer <file> <tag> <count> <bytes>');
  const count = Number(countStr);
  const payload = tag.repeat(Number(bytesStr));
  for (let seq = 0; seq < count; seq++)
    await writeFileAtomic(file, JSON.stringify({ writer: tag, seq, payload }));
  process.send?.({ done: count });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
