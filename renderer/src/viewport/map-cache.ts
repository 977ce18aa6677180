/**
 * Loaded map geometry, keyed by asset path + generation. THREE objects and typed arrays live here,
 * never in React or zustand state; the viewport store only records the load status and counts.
 */
import * as THREE from 'three';
import type { MapSummary } from '../../../preload/contract';
import { fetchAsset } from '../lib/assets';
import { decimateStride, DEFAULT_MAX_DISPLAY_POINTS, interleaveForLod } from './decimate';
import { heightColors, pointBounds, type Vec3 } from './geometry';
import { parseMapBinary } from './map-format';
import { useViewport } from './store';
import { diag } from '../test-hooks';

export interface MapEntry {
  key: string;
  geometry: THREE.BufferGeometry;
  rgb: THREE.BufferAttribute | null;
  height: THREE.BufferAttribute | null;
  up: Vec3;
  total: number;
  shown: number;
  stride: number;
  center: THREE.Vector3;
  radius_m: number;
}

const entries = new Map<string, MapEntry>();

/**
 * Pads RGB to RGBA (alpha 255). Four-byte colours are a universally supported vertex format;
 * three-byte ones make some GL backends (ANGLE on Vulkan/SwiftShader) convert the whole buffer.
 */
export function rgbToRgba(rgb: Uint8Array): Uint8Array {
  const n = Math.floor(rgb.length / 3);
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = rgb[i * 3] ?? 0;
    out[i * 4 + 1] = rgb[i * 3 + 1] ?? 0;
    out[i * 4 + 2] = rgb[i * 3 + 2] ?? 0;
    out[i * 4 + 3] = 255;
  }
  return out;
}
let loading: { key: string; promise: Promise<void> } | null = null;

export function mapKeyFor(map: MapSummary, generation: number): string {
  return `${map.asset}#${generation}#${map.points}`;
}

export function getMapEntry(key: string | null): MapEntry | null {
  return key ? (entries.get(key) ?? null) : null;
}

/** The colour attribute for a mode; height colours are computed on first use. */
export function colorAttributeFor(entry: MapEntry, mode: 'rgb' | 'height'): THREE.BufferAttribute {
  if (mode === 'rgb' && entry.rgb) return entry.rgb;
  if (!entry.height) {
    const pos = entry.geometry.getAttribute('position') as THREE.BufferAttribute;
    entry.height = new THREE.BufferAttribute(
      rgbToRgba(heightColors(pos.array as Float32Array, entry.up)),
      4,
      true,
    );
  }
  return entry.height;
}

function disposeAllExcept(key: string): void {
  for (const [k, e] of entries) {
    if (k !== key) {
      e.geometry.dispose();
      entries.delete(k);
    }
  }
}

export function ensureMapLoaded(
  map: MapSummary | null,
  generation: number,
  maxPoints = DEFAULT_MAX_DISPLAY_POINTS,
): Promise<void> {
  const vp = useViewport.getState();
  if (!map) {
    vp.setMap({ mapState: 'none', mapKey: null, mapError: null, mapPointsTotal: 0, mapPointsShown: 0 });
    diag.mapPoints = 0;
    return Promise.resolve();
  }
  const key = mapKeyFor(map, generation);
  if (entries.has(key)) {
    const e = entries.get(key)!;
    if (vp.mapKey !== key)
      vp.setMap({
        mapState: 'ready',
        mapKey: key,
        mapError: null,
        mapPointsTotal: e.total,
        mapPointsShown: e.shown,
        mapStride: e.stride,
        mapHasColor: !!e.rgb,
      });
    return Promise.resolve();
  }
  if (loading && loading.key === key) return loading.promise;
  vp.setMap({ mapState: 'loading', mapKey: key, mapError: null });
  const promise = (async () => {
    try {
      const buf = await fetchAsset(map.asset, { cache: false });
      const t0 = performance.now();
      const parsed = parseMapBinary(buf, map.asset);
      const dec = decimateStride(parsed.positions, parsed.colors, maxPoints);
      // Prefix-uniform order so the viewport can thin the cloud while the camera moves.
      const lod = interleaveForLod(dec.positions, dec.colors, 3);
      const geometry = new THREE.BufferGeometry();
      geometry.setAttribute('position', new THREE.BufferAttribute(lod.positions, 3));
      const rgb = lod.colors ? new THREE.BufferAttribute(rgbToRgba(lod.colors), 4, true) : null;
      const up: Vec3 = map.floor_m ? [...map.floor_m.up] : [0, 1, 0];
      const b = pointBounds(lod.positions);
      const min = b ? new THREE.Vector3(...b.min) : new THREE.Vector3(...map.bounds_m.min);
      const max = b ? new THREE.Vector3(...b.max) : new THREE.Vector3(...map.bounds_m.max);
      const center = min.clone().add(max).multiplyScalar(0.5);
      const radius_m = Math.max(0.5, min.distanceTo(max) / 2);
      geometry.boundingSphere = new THREE.Sphere(center.clone(), radius_m);
      const entry: MapEntry = {
        key,
        geometry,
        rgb,
        height: null,
        up,
        total: parsed.count,
        shown: dec.count,
        stride: dec.stride,
        center,
        radius_m,
      };
      geometry.setAttribute(
        'color',
        colorAttributeFor(entry, useViewport.getState().colorBy === 'rgb' && rgb ? 'rgb' : 'height'),
      );
      entries.set(key, entry);
      disposeAllExcept(key);
      diag.mapParse_ms = performance.now() - t0;
      if (useViewport.getState().mapKey === key) {
        useViewport.getState().setMap({
          mapState: 'ready',
          mapPointsTotal: entry.total,
          mapPointsShown: entry.shown,
          mapStride: entry.stride,
          mapHasColor: !!rgb,
        });
      }
    } catch (err) {
      if (useViewport.getState().mapKey === key) {
        useViewport
          .getState()
          .setMap({ mapState: 'error', mapError: err instanceof Error ? err.message : String(err) });
      }
    } finally {
      if (loading?.key === key) loading = null;
    }
  })();
  loading = { key, promise };
  return promise;
}
