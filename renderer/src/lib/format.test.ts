import { describe, expect, it } from 'vitest';
import { formatEta, progressFraction } from './format';

describe('formatEta', () => {
  it('formats seconds, minutes and hours; hides unknown ETAs', () => {
    expect(formatEta(42)).toBe('42s left');
    expect(formatEta(125)).toBe('2m 05s left');
    expect(formatEta(3 * 3600 + 7 * 60)).toBe('3h 07m left');
    expect(formatEta(null)).toBe('');
    expect(formatEta(NaN)).toBe('');
  });
});

describe('progressFraction', () => {
  it('clamps to [0,1] and is null without a total', () => {
    expect(progressFraction(5, 10)).toBe(0.5);
    expect(progressFraction(12, 10)).toBe(1);
    expect(progressFraction(3, 0)).toBeNull();
  });
});
