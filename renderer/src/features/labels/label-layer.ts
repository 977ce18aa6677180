/**
 * Labeled points (`labels/points.bin`) as a THREE.Points layer for the shared viewport. Typed arrays
 * and THREE objects live here, outside React/zustand; `useLabelPoints` only holds status and a
 * revision counter the layer component re-renders on.
 */
import * as THREE from 'three';
import { create } from 'zustand';
import { fetchAsset } from '../../lib/assets';
import { buildPalette, pointColors, type Palette } from './palette';
import { decodeLabelPoints, LABEL_POINTS_ASSET, type LabelPoints } from './points-format';

interface LabelPointsStatus {
  state: 'none' | 'loading' | 'ready' | 'error';
  error: string | null;
  count: number;
  /** Bumped whenever geometry or colours change. */
  rev: number;
  /** Points currently highlighted (a detection's points), 0 when none. */
  highlighted: number;
}

export const useLabelPoints = create<LabelPointsStatus>()(() => ({
  state: 'none',
  error: null,
  count: 0,
  rev: 0,
  highlighted: 0,
}));

let data: LabelPoints | null = null;
let geometry: THREE.BufferGeometry | null = null;
let colorAttr: THREE.BufferAttribute | null = null;
let highlight: Uint32Array | null = null;
let load = 0;
let colorOpts: { palette: Palette; only: ReadonlySet<string> | null; rejected: ReadonlySet<string> } = {
  palette: new Map(),
  only: null,
  rejected: new Set(),
};

const bump = (p: Partial<LabelPointsStatus> = {}) =>
  useLabelPoints.setState((s) => ({ ...p, rev: s.rev + 1 }));

export function getLabelPoints(): LabelPoints | null {
  return data;
}
export function getLabelGeometry(): THREE.BufferGeometry | null {
  return geometry;
}

function recolor(): void {
  if (!data || !colorAttr) return;
  const arr = colorAttr.array as Uint8Array;
  pointColors(
    data.labelIds,
    data.texts,
    colorOpts.palette,
    { only: colorOpts.only, rejected: colorOpts.rejected, linear: true },
    arr,
  );
  if (highlight) {
    // Highlighted points keep their class colour; all others are dimmed (linear light: 1/16 is dark).
    const keep = new Uint8Array(data.count);
    for (const i of highlight) keep[i] = 1;
    for (let i = 0; i < data.count; i++) {
      if (keep[i]) continue;
      arr[i * 4] = arr[i * 4]! >> 4;
      arr[i * 4 + 1] = arr[i * 4 + 1]! >> 4;
      arr[i * 4 + 2] = arr[i * 4 + 2]! >> 4;
    }
  }
  colorAttr.needsUpdate = true;
}

/** Sets palette, class filter and rejected classes; recolours in place. */
export function setLabelColoring(
  palette: Palette,
  only: readonly string[] | null,
  rejected: readonly string[],
): void {
  colorOpts = { palette, only: only ? new Set(only) : null, rejected: new Set(rejected) };
  recolor();
  bump();
}

export function setHighlight(indices: Uint32Array | null): void {
  highlight = indices && indices.length > 0 ? indices : null;
  recolor();
  bump({ highlighted: highlight?.length ?? 0 });
}

export function resetLabelPoints(): void {
  load++;
  geometry?.dispose();
  geometry = null;
  colorAttr = null;
  data = null;
  highlight = null;
  bump({ state: 'none', error: null, count: 0, highlighted: 0 });
}

/** (Re)fetches the asset (never from the byte cache: edits rewrite it) and rebuilds the geometry. */
export async function reloadLabelPoints(): Promise<void> {
  const my = ++load;
  if (!data) useLabelPoints.setState({ state: 'loading', error: null });
  try {
    const buf = await fetchAsset(LABEL_POINTS_ASSET, { cache: false });
    if (my !== load) return;
    const next = decodeLabelPoints(buf);
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.BufferAttribute(next.positions_m, 3));
    const attr = new THREE.BufferAttribute(new Uint8Array(next.count * 4), 4, true);
    g.setAttribute('color', attr);
    g.computeBoundingSphere();
    geometry?.dispose();
    geometry = g;
    colorAttr = attr;
    data = next;
    highlight = null;
    if (colorOpts.palette.size === 0) colorOpts = { ...colorOpts, palette: buildPalette(next.texts) };
    recolor();
    bump({ state: 'ready', error: null, count: next.count, highlighted: 0 });
  } catch (err) {
    if (my !== load) return;
    bump({ state: 'error', error: err instanceof Error ? err.message : String(err) });
  }
}
