/** A small, strict command-line parser: declared options only, typed values, generated help. */

export type OptionType = 'string' | 'number' | 'int' | 'boolean';

export interface OptionSpec {
  name: string;
  type: OptionType;
  description: string;
  default?: string | number | boolean;
  /** Value placeholder in help, e.g. DIR. */
  value?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  positionals?: { name: string; description: string; required: boolean }[];
  options: OptionSpec[];
  /** Shown in help as not yet available in this build. */
  reserved?: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Parsed {
  positionals: string[];
  options: Record<string, string | number | boolean | undefined>;
  help: boolean;
}

export const GLOBAL_OPTIONS: OptionSpec[] = [
  {
    name: 'json',
    type: 'boolean',
    description: 'machine-readable output: the last line of stdout is one JSON object',
  },
  { name: 'help', type: 'boolean', description: 'show help for this command' },
];

export function parseArgs(spec: CommandSpec, argv: string[]): Parsed {
  const all = [...spec.options, ...GLOBAL_OPTIONS];
  const byName = new Map(all.map((o) => [o.name, o]));
  const options: Parsed['options'] = {};
  const positionals: string[] = [];
  for (const o of all) if (o.default !== undefined) options[o.name] = o.default;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h') {
      options['help'] = true;
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const o = byName.get(name);
      if (!o)
        throw new UsageError(
          `unknown option --${name} for "${spec.name}" (see clip-fields ${spec.name} --help)`,
        );
      if (o.type === 'boolean') {
        if (eq >= 0) throw new UsageError(`--${name} takes no value`);
        options[name] = true;
        continue;
      }
      const raw = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (raw === undefined) throw new UsageError(`--${name} needs a value`);
      if (o.type === 'string') options[name] = raw;
      else {
        const n = Number(raw);
        if (!Number.isFinite(n) || (o.type === 'int' && !Number.isInteger(n))) {
          throw new UsageError(
            `--${name} must be ${o.type === 'int' ? 'an integer' : 'a number'} (got "${raw}")`,
          );
        }
        options[name] = n;
      }
      continue;
    }
    positionals.push(a);
  }
  const help = options['help'] === true;
  if (!help) {
    const required = (spec.positionals ?? []).filter((p) => p.required).length;
    if (positionals.length < required) {
      throw new UsageError(
        `missing ${spec.positionals?.[positionals.length]?.name ?? 'argument'} (usage: ${spec.usage})`,
      );
    }
    const max = spec.positionals?.length ?? 0;
    if (positionals.length > max)
      throw new UsageError(`unexpected argument "${positionals[max]}" (usage: ${spec.usage})`);
  }
  return { positionals, options, help };
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`clip-fields ${spec.name} — ${spec.summary}`, '', `Usage: ${spec.usage}`];
  if (spec.reserved) lines.push('', 'Not available in this build yet (the name is reserved).');
  if (spec.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of spec.positionals)
      lines.push(`  ${p.name.padEnd(24)} ${p.description}${p.required ? '' : ' (optional)'}`);
  }
  lines.push('', 'Options:');
  for (const o of [...spec.options, ...GLOBAL_OPTIONS]) {
    const flag =
      o.type === 'boolean' ? `--${o.name}` : `--${o.name} ${o.value ?? (o.type === 'string' ? 'TEXT' : 'N')}`;
    const def = o.default !== undefined && o.type !== 'boolean' ? ` (default ${String(o.default)})` : '';
    lines.push(`  ${flag.padEnd(24)} ${o.description}${def}`);
  }
  return lines.join('\n');
}
