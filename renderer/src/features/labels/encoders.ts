/** Plain-language descriptions of the encoders a labeling run used. */
export function describeLanguageEncoder(name: string): string {
  if (name.startsWith('lexical')) return `${name} (fallback — no synonyms: “couch” will not find “sofa”)`;
  return name;
}

export function describeVisionEncoder(name: string | null): string {
  if (!name) return 'none — training uses the language head only';
  return name;
}
