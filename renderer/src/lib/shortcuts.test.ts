import { describe, expect, it } from 'vitest';
import { shortcutFor, type KeyLike } from './shortcuts';

const k = (key: string, extra: Partial<KeyLike> = {}): KeyLike => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  inTextField: false,
  ...extra,
});

describe('shortcutFor', () => {
  it('maps digits to panes, brackets to frames, t to theme, ? to help', () => {
    expect(shortcutFor(k('1'))).toEqual({ type: 'pane', index: 0 });
    expect(shortcutFor(k('5'))).toEqual({ type: 'pane', index: 4 });
    expect(shortcutFor(k('['))).toEqual({ type: 'frame', delta: -1 });
    expect(shortcutFor(k(']'))).toEqual({ type: 'frame', delta: 1 });
    expect(shortcutFor(k('t'))).toEqual({ type: 'theme' });
    expect(shortcutFor(k('?'))).toEqual({ type: 'help' });
  });

  it('opens a project with Ctrl+O or Cmd+O, even from a text field', () => {
    expect(shortcutFor(k('o', { ctrlKey: true }))).toEqual({ type: 'open-project' });
    expect(shortcutFor(k('o', { metaKey: true, inTextField: true }))).toEqual({ type: 'open-project' });
  });

  it('ignores single-key shortcuts while typing and with modifiers', () => {
    expect(shortcutFor(k('t', { inTextField: true }))).toBeNull();
    expect(shortcutFor(k('1', { inTextField: true }))).toBeNull();
    expect(shortcutFor(k('1', { ctrlKey: true }))).toBeNull();
    expect(shortcutFor(k('x'))).toBeNull();
  });
});
