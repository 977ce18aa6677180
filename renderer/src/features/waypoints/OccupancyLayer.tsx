import { useThree } from '@react-three/fiber';
import { useEffect, useMemo } from 'react';
import * as THREE from 'three';
import { invertRigid, occupancyTexture, OCCUPANCY_STYLE } from './occupancy';
import { getOccupancy, useOccupancy } from './occupancy-store';

/** Height of the drawn grid above the floor (map z = 0), metres. */
const FLOOR_LIFT_M = 0.02;

/**
 * The occupancy grid as a textured floor plane in the shared viewport (a child of Viewport): built in
 * the map frame (z = 0 is the floor) and placed in the world with world_from_map = inverse(map_from_world).
 * Unknown cells are transparent.
 */
export function OccupancyLayer({ theme }: { theme: 'light' | 'dark' }) {
  const rev = useOccupancy((s) => s.rev);
  const invalidate = useThree((s) => s.invalidate);
  const mesh = useMemo(() => {
    void rev;
    const g = getOccupancy();
    if (!g || g.width === 0 || g.height === 0) return null;
    const tex = new THREE.DataTexture(
      occupancyTexture(g, OCCUPANCY_STYLE[theme]),
      g.width,
      g.height,
      THREE.RGBAFormat,
    );
    tex.magFilter = THREE.NearestFilter;
    tex.minFilter = THREE.NearestFilter;
    tex.colorSpace = THREE.SRGBColorSpace;
    tex.needsUpdate = true;
    const w_m = g.width * g.cell_m;
    const h_m = g.height * g.cell_m;
    const geom = new THREE.PlaneGeometry(w_m, h_m);
    // Plane centred on the grid in the map frame; PlaneGeometry's v = 0 edge is its low-y edge = row 0.
    // Lifted slightly off the floor so it does not z-fight with the map's floor points.
    geom.translate(g.origin_m[0] + w_m / 2, g.origin_m[1] + h_m / 2, FLOOR_LIFT_M);
    const mat = new THREE.MeshBasicMaterial({
      map: tex,
      transparent: true,
      side: THREE.DoubleSide,
      depthWrite: false,
    });
    const m = new THREE.Mesh(geom, mat);
    m.name = 'occupancy-floor';
    m.matrixAutoUpdate = false;
    // fromArray reads column-major; the asset's matrices are row-major.
    m.matrix.fromArray(invertRigid(g.map_from_world)).transpose();
    m.raycast = () => undefined;
    return m;
  }, [rev, theme]);
  useEffect(() => {
    invalidate();
    return () => {
      if (!mesh) return;
      mesh.geometry.dispose();
      const mat = mesh.material as THREE.MeshBasicMaterial;
      mat.map?.dispose();
      mat.dispose();
      invalidate();
    };
  }, [mesh, invalidate]);
  return mesh ? <primitive object={mesh} /> : null;
}
