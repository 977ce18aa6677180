import { useThree } from '@react-three/fiber';
import { useEffect, useMemo } from 'react';
import * as THREE from 'three';
import { colorAttributeFor, getMapEntry } from '../../viewport/map-cache';
import { useViewport } from '../../viewport/store';
import type { Palette } from '../labels/palette';
import { displaySourceIndices } from '../query/heatmap';
import { getTopLabels, useFieldColors } from './field-colors';
import { topLabelColors } from './top-labels';

/**
 * Recolours the shared viewport's map cloud by the field's top label per point (a child of Viewport),
 * with the Labels pane's palette. Restores the map's own colours on unmount.
 */
export function FieldLabelLayer({ palette }: { palette: Palette }) {
  const mapKey = useViewport((s) => (s.mapState === 'ready' ? s.mapKey : null));
  const colorBy = useViewport((s) => s.colorBy);
  const rev = useFieldColors((s) => s.rev);
  const invalidate = useThree((s) => s.invalidate);
  const entry = getMapEntry(mapKey);
  const source = useMemo(() => (entry ? displaySourceIndices(entry.total, entry.stride) : null), [entry]);
  const attr = useMemo(
    () => (source ? new THREE.BufferAttribute(new Uint8Array(source.length * 4), 4, true) : null),
    [source],
  );

  useEffect(() => {
    const top = getTopLabels();
    if (!entry || !source || !attr || !top || top.count !== entry.total) return;
    topLabelColors(top, source, palette, attr.array as Uint8Array);
    attr.needsUpdate = true;
    entry.geometry.setAttribute('color', attr);
    invalidate();
  }, [entry, source, attr, rev, palette, colorBy, invalidate]);

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
