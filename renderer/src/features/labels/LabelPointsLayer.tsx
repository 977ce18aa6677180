import { useThree } from '@react-three/fiber';
import { useEffect, useMemo } from 'react';
import * as THREE from 'three';
import { useViewport } from '../../viewport/store';
import { getLabelGeometry, useLabelPoints } from './label-layer';

/** Labeled points coloured by class, drawn over the fused map (a child of the shared Viewport). */
export function LabelPointsLayer() {
  const rev = useLabelPoints((s) => s.rev);
  const state = useLabelPoints((s) => s.state);
  const pointSize = useViewport((s) => s.pointSize_px);
  const invalidate = useThree((s) => s.invalidate);
  const material = useMemo(
    () => new THREE.PointsMaterial({ size: 3, sizeAttenuation: false, vertexColors: true }),
    [],
  );
  useEffect(() => () => material.dispose(), [material]);
  useEffect(() => {
    material.size = pointSize + 2;
    invalidate();
  }, [material, pointSize, invalidate]);
  useEffect(() => invalidate(), [rev, invalidate]);
  const geometry = state === 'ready' ? getLabelGeometry() : null;
  if (!geometry) return null;
  return (
    <points
      geometry={geometry}
      material={material}
      frustumCulled={false}
      name="label-points"
      renderOrder={1}
    />
  );
}
