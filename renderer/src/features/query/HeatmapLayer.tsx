import { useThree } from '@react-three/fiber';
import { useEffect, useMemo } from 'react';
import * as THREE from 'three';
import { colorAttributeFor, getMapEntry } from '../../viewport/map-cache';
import { useViewport } from '../../viewport/store';
import { displaySourceIndices, heatmapColors } from './heatmap';
import { getHeatmapScores, useQuery } from './store';

/**
 * Recolours the shared viewport's map cloud by the latest query's per-point scores (a child of
 * Viewport). Restores the map's own colours on unmount.
 */
export function HeatmapLayer() {
  const mapKey = useViewport((s) => (s.mapState === 'ready' ? s.mapKey : null));
  const colorBy = useViewport((s) => s.colorBy);
  const rev = useQuery((s) => s.heatmapRev);
  const range = useQuery((s) => s.result?.score_range);
  const threshold = useQuery((s) => s.threshold);
  const hitsOnly = useQuery((s) => s.hitsOnly);
  const invalidate = useThree((s) => s.invalidate);
  const entry = getMapEntry(mapKey);
  const source = useMemo(() => (entry ? displaySourceIndices(entry.total, entry.stride) : null), [entry]);
  const attr = useMemo(
    () => (source ? new THREE.BufferAttribute(new Uint8Array(source.length * 4), 4, true) : null),
    [source],
  );

  useEffect(() => {
    const scores = getHeatmapScores();
    if (!entry || !source || !attr || !scores || !range || scores.length !== entry.total) return;
    heatmapColors(scores, source, { range, threshold, hitsOnly }, attr.array as Uint8Array);
    attr.needsUpdate = true;
    entry.geometry.setAttribute('color', attr);
    invalidate();
  }, [entry, source, attr, rev, range, threshold, hitsOnly, colorBy, invalidate]);

  useEffect(
    () => () => {
      if (!entry) return;
      entry.geometry.setAttribute('color', colorAttributeFor(entry, useViewport.getState().colorBy));
      invalidate();
    },
    [entry, invalidate],
  );
  return null;
}
