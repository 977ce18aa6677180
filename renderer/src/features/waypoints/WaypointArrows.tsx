import { useThree } from '@react-three/fiber';
import { useEffect, useMemo } from 'react';
import * as THREE from 'three';
import type { WaypointView } from './store';

/** Stand-off poses as arrows in the shared viewport (a child of Viewport); the selected one is larger. */
export function WaypointArrows({
  waypoints,
  selected,
  length_m,
}: {
  waypoints: WaypointView[];
  selected: string | null;
  length_m: number;
}) {
  const invalidate = useThree((s) => s.invalidate);
  const group = useMemo(() => {
    const g = new THREE.Group();
    g.name = 'waypoint-arrows';
    for (const w of waypoints) {
      const dir = new THREE.Vector3(...w.heading_world);
      if (dir.lengthSq() < 1e-12) dir.set(1, 0, 0);
      dir.normalize();
      const sel = w.id === selected;
      const len = sel ? length_m * 1.5 : length_m;
      const arrow = new THREE.ArrowHelper(
        dir,
        new THREE.Vector3(...w.position_world_m),
        len,
        sel ? 0xff8c00 : 0xe03131,
        len * 0.35,
        len * 0.2,
      );
      g.add(arrow);
      if (w.look_at_world_m) {
        const geom = new THREE.BufferGeometry().setFromPoints([
          new THREE.Vector3(...w.position_world_m),
          new THREE.Vector3(...w.look_at_world_m),
        ]);
        g.add(
          new THREE.Line(
            geom,
            new THREE.LineDashedMaterial({ color: 0xe03131, dashSize: 0.05, gapSize: 0.05 }),
          ),
        );
      }
    }
    return g;
  }, [waypoints, selected, length_m]);
  useEffect(() => {
    invalidate();
    return () => {
      group.traverse((o) => {
        const m = o as THREE.Mesh;
        m.geometry?.dispose();
        const mat = m.material as THREE.Material | THREE.Material[] | undefined;
        if (Array.isArray(mat)) mat.forEach((x) => x.dispose());
        else mat?.dispose();
      });
    };
  }, [group, invalidate]);
  return <primitive object={group} />;
}
