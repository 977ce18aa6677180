/**
 * The shared 3D viewport: fused map as a THREE.Points cloud, the camera trajectory, per-frame
 * frusta (clickable to select a frame) and the selected frame's frustum. Renders on demand only:
 * the orbit controller and prop changes invalidate; nothing renders while the scene is still.
 */
import { Canvas, useFrame, useThree, type ThreeEvent } from '@react-three/fiber';
import { useEffect, useMemo, useRef, type ReactNode } from 'react';
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { FrameIndex, MapSummary } from '../../../preload/contract';
import { formatCount } from '../lib/format';
import { diag } from '../test-hooks';
import {
  cameraCenter,
  frameOfFrustumVertex,
  frustumSegments,
  pointBounds,
  trajectoryPositions,
  type PinholeIntrinsics,
  type Vec3,
} from './geometry';
import { colorAttributeFor, ensureMapLoaded, getMapEntry } from './map-cache';
import { useViewport, type ColorBy } from './store';

export interface ViewportProps {
  map: MapSummary | null;
  frames: FrameIndex | null;
  /** Position (in frames.frames) of the selected frame. */
  selected: number | null;
  onSelectFrame?: (position: number) => void;
  /** Bumped when project assets were rewritten. */
  generation: number;
  theme: 'light' | 'dark';
  /** Extra scene layers from feature panes (rendered inside the canvas; may use R3F hooks). */
  children?: ReactNode;
}

/**
 * Imperative camera moves for feature panes (set while a viewport is mounted, null otherwise):
 * `flyTo` re-targets the orbit controls on a world-frame point and moves the camera to `distance_m`.
 */
export const viewportApi: { flyTo: ((target_m: Vec3, distance_m: number) => void) | null } = { flyTo: null };

/** Most frusta drawn at once; longer captures show every k-th (the selected one is always drawn). */
const MAX_FRUSTA = 800;
/** Clicks further than this (px) from the pointer-down are drags, not picks. */
const CLICK_SLOP_PX = 5;

interface ThemeColors {
  bg: string;
  trajectory: string;
  frusta: string;
  selected: string;
  points: string;
}

const THEME_COLORS: Record<'dark' | 'light', ThemeColors> = {
  dark: { bg: '#14171c', trajectory: '#6cb6ff', frusta: '#8a94a6', selected: '#ffb02e', points: '#c8ccd4' },
  light: { bg: '#f4f5f7', trajectory: '#1f6feb', frusta: '#6b7280', selected: '#d9480f', points: '#444a55' },
};

/** Camera interaction state shared by the orbit rig and the point cloud (not React state). */
const interaction = { active: false, framesSinceStart: 0, listeners: new Set<() => void>() };
/** Fewest points drawn while the camera moves on a slow GPU. */
const MIN_LOD_POINTS = 120_000;
/** A frame interval above this while orbiting halves the drawn points; below LOD_FAST doubles them. */
const LOD_SLOW_S = 1 / 30;
const LOD_FAST_S = 1 / 75;

function RenderCounter() {
  useFrame(() => {
    diag.renderCount++;
  });
  return null;
}

interface SceneFrame {
  center: THREE.Vector3;
  radius_m: number;
  up: Vec3;
  key: string;
}

function OrbitRig({ scene }: { scene: SceneFrame | null }) {
  const camera = useThree((s) => s.camera);
  const gl = useThree((s) => s.gl);
  const invalidate = useThree((s) => s.invalidate);
  const controlsRef = useRef<OrbitControls | null>(null);

  useEffect(() => {
    const controls = new OrbitControls(camera, gl.domElement);
    controls.enableDamping = false;
    controls.screenSpacePanning = true;
    controls.zoomToCursor = true;
    const onChange = () => invalidate();
    const onStart = () => {
      interaction.active = true;
      interaction.framesSinceStart = 0;
    };
    const onEnd = () => {
      interaction.active = false;
      for (const l of interaction.listeners) l();
      invalidate();
    };
    controls.addEventListener('change', onChange);
    controls.addEventListener('start', onStart);
    controls.addEventListener('end', onEnd);
    controlsRef.current = controls;
    return () => {
      controls.removeEventListener('change', onChange);
      controls.removeEventListener('start', onStart);
      controls.removeEventListener('end', onEnd);
      controls.dispose();
      controlsRef.current = null;
    };
  }, [camera, gl, invalidate]);

  const fittedKey = useRef<string | null>(null);
  useEffect(() => {
    const controls = controlsRef.current;
    if (!scene || !controls || fittedKey.current === scene.key) return;
    fittedKey.current = scene.key;
    const up = new THREE.Vector3(...scene.up).normalize();
    camera.up.copy(up);
    // Look from above and to the side: a third of the way up from the horizontal.
    const side = Math.abs(up.y) < 0.9 ? new THREE.Vector3(0, 1, 0) : new THREE.Vector3(1, 0, 0);
    const horiz = side.sub(up.clone().multiplyScalar(side.dot(up))).normalize();
    const dir = horiz.multiplyScalar(0.8).add(up.clone().multiplyScalar(0.6)).normalize();
    const dist = scene.radius_m * 2.2;
    camera.position.copy(scene.center).add(dir.multiplyScalar(dist));
    if (camera instanceof THREE.PerspectiveCamera) {
      camera.near = Math.max(0.001, scene.radius_m / 1000);
      camera.far = scene.radius_m * 100;
      camera.updateProjectionMatrix();
    }
    controls.target.copy(scene.center);
    // OrbitControls caches the up axis at construction; re-derive it.
    controls.object.up.copy(up);
    controls.update();
    invalidate();
  }, [scene, camera, invalidate]);

  useEffect(() => {
    viewportApi.flyTo = (target_m, distance_m) => {
      const controls = controlsRef.current;
      if (!controls) return;
      const target = new THREE.Vector3(...target_m);
      const dir = camera.position.clone().sub(controls.target);
      if (dir.lengthSq() < 1e-12) dir.set(0, 1, 1);
      camera.position.copy(target).add(dir.normalize().multiplyScalar(Math.max(0.05, distance_m)));
      controls.target.copy(target);
      controls.update();
      invalidate();
    };
    return () => {
      viewportApi.flyTo = null;
    };
  }, [camera, invalidate]);
  return null;
}

function MapCloud({
  mapKey,
  colorBy,
  pointSize_px,
}: {
  mapKey: string;
  colorBy: ColorBy;
  pointSize_px: number;
}) {
  const entry = getMapEntry(mapKey);
  const invalidate = useThree((s) => s.invalidate);
  const material = useMemo(
    () => new THREE.PointsMaterial({ size: 2, sizeAttenuation: false, vertexColors: true }),
    [],
  );
  useEffect(() => () => material.dispose(), [material]);
  useEffect(() => {
    material.size = pointSize_px;
    invalidate();
  }, [material, pointSize_px, invalidate]);
  useEffect(() => {
    if (!entry) return;
    entry.geometry.setAttribute('color', colorAttributeFor(entry, colorBy));
    material.vertexColors = true;
    material.color.set('#ffffff');
    material.needsUpdate = true;
    invalidate();
  }, [entry, colorBy, material, invalidate]);
  // Adaptive level of detail: while orbiting, if frames come slower than 30 Hz, draw a prefix of
  // the (prefix-uniform) buffer; restore the full cloud when the camera stops.
  const drawn = useRef(entry?.shown ?? 0);
  useEffect(() => {
    if (!entry) return;
    drawn.current = entry.shown;
    entry.geometry.setDrawRange(0, entry.shown);
    diag.mapPointsDrawn = entry.shown;
    const restore = () => {
      drawn.current = entry.shown;
      entry.geometry.setDrawRange(0, entry.shown);
      diag.mapPointsDrawn = entry.shown;
    };
    interaction.listeners.add(restore);
    return () => {
      interaction.listeners.delete(restore);
    };
  }, [entry]);
  useFrame((_, delta_s) => {
    // The first frame's delta spans the idle time before the drag, not render cost.
    if (!entry || !interaction.active || interaction.framesSinceStart++ === 0) return;
    let next = drawn.current;
    if (delta_s > LOD_SLOW_S && next > MIN_LOD_POINTS) next = Math.max(MIN_LOD_POINTS, Math.floor(next / 2));
    else if (delta_s < LOD_FAST_S && next < entry.shown) next = Math.min(entry.shown, next * 2);
    if (next !== drawn.current) {
      drawn.current = next;
      entry.geometry.setDrawRange(0, next);
      diag.mapPointsDrawn = next;
    }
  });
  if (!entry) return null;
  return <points geometry={entry.geometry} material={material} frustumCulled={false} />;
}

/** Lets e2e tests find where a camera is drawn (for clicking it). */
function ScreenProbe({ frames }: { frames: FrameIndex }) {
  const camera = useThree((s) => s.camera);
  const gl = useThree((s) => s.gl);
  useEffect(() => {
    diag.frameScreenPosition = (position: number) => {
      const f = frames.frames[position];
      if (!f) return null;
      const p = new THREE.Vector3(...cameraCenter(f.world_from_camera)).project(camera);
      if (p.z > 1 || p.z < -1) return null;
      const r = gl.domElement.getBoundingClientRect();
      return { x: r.left + ((p.x + 1) / 2) * r.width, y: r.top + ((1 - p.y) / 2) * r.height };
    };
    return () => {
      diag.frameScreenPosition = () => null;
    };
  }, [frames, camera, gl]);
  return null;
}

function CameraPath({
  frames,
  selected,
  onSelectFrame,
  scale_m,
  colors,
}: {
  frames: FrameIndex;
  selected: number | null;
  onSelectFrame?: (p: number) => void;
  scale_m: number;
  colors: ThemeColors;
}) {
  const raycaster = useThree((s) => s.raycaster);
  const showTrajectory = useViewport((s) => s.showTrajectory);
  const showFrustums = useViewport((s) => s.showFrustums);
  const k: PinholeIntrinsics = useMemo(() => {
    const [fx, fy, cx, cy] = frames.depth_intrinsics;
    return { width: frames.depth_size[0], height: frames.depth_size[1], fx, fy, cx, cy };
  }, [frames]);
  const frustumDepth_m = Math.min(0.25, Math.max(0.02, scale_m * 0.04));

  const built = useMemo(() => {
    const poses = frames.frames.map((f) => f.world_from_camera);
    const path = new THREE.BufferGeometry();
    path.setAttribute('position', new THREE.BufferAttribute(trajectoryPositions(poses), 3));
    const step = Math.max(1, Math.ceil(poses.length / MAX_FRUSTA));
    const shownPositions: number[] = [];
    for (let i = 0; i < poses.length; i += step) shownPositions.push(i);
    const fr = new THREE.BufferGeometry();
    fr.setAttribute(
      'position',
      new THREE.BufferAttribute(
        frustumSegments(
          shownPositions.map((i) => poses[i]!),
          k,
          frustumDepth_m,
        ),
        3,
      ),
    );
    return { path, frusta: fr, shownPositions };
  }, [frames, k, frustumDepth_m]);
  useEffect(
    () => () => {
      built.path.dispose();
      built.frusta.dispose();
    },
    [built],
  );

  const selectedGeom = useMemo(() => {
    const f = selected !== null ? frames.frames[selected] : undefined;
    if (!f) return null;
    const g = new THREE.BufferGeometry();
    g.setAttribute(
      'position',
      new THREE.BufferAttribute(frustumSegments([f.world_from_camera], k, frustumDepth_m * 2), 3),
    );
    return g;
  }, [frames, selected, k, frustumDepth_m]);
  useEffect(() => () => selectedGeom?.dispose(), [selectedGeom]);

  const line = useMemo(
    () => new THREE.Line(built.path, new THREE.LineBasicMaterial({ color: colors.trajectory })),
    [built, colors.trajectory],
  );
  useEffect(() => () => (line.material as THREE.Material).dispose(), [line]);

  useEffect(() => {
    raycaster.params.Points = { threshold: Math.max(0.01, scale_m * 0.015) };
    raycaster.params.Line = { threshold: Math.max(0.005, scale_m * 0.006) };
  }, [raycaster, scale_m]);

  /** Of this object's hits, the vertex index closest to the pointer ray (not merely the nearest along it). */
  const closestIndex = (e: ThreeEvent<MouseEvent>, object: THREE.Object3D = e.object): number | undefined => {
    let best: number | undefined;
    let bestD = Infinity;
    for (const h of e.intersections) {
      if (h.object !== object || h.index === undefined) continue;
      const d = e.ray.distanceSqToPoint(h.point);
      if (d < bestD) {
        bestD = d;
        best = h.index;
      }
    }
    return best ?? (object === e.object ? e.index : undefined);
  };
  const pickPoint = (e: ThreeEvent<MouseEvent>) => {
    if (e.delta > CLICK_SLOP_PX) return;
    const i = closestIndex(e);
    if (i === undefined) return;
    e.stopPropagation();
    onSelectFrame?.(i);
  };
  const pickFrustum = (e: ThreeEvent<MouseEvent>) => {
    if (e.delta > CLICK_SLOP_PX) return;
    // A camera centre under the pointer is a more precise pick than the frustum edges around it.
    const centre = e.intersections.find((h) => h.object.name === 'trajectory-points')?.object;
    if (centre) {
      const j = closestIndex(e, centre);
      if (j !== undefined) {
        e.stopPropagation();
        onSelectFrame?.(j);
        return;
      }
    }
    const i = closestIndex(e);
    if (i === undefined) return;
    e.stopPropagation();
    const pos = built.shownPositions[frameOfFrustumVertex(i)];
    if (pos !== undefined) onSelectFrame?.(pos);
  };

  return (
    <group>
      {showTrajectory && <primitive object={line} />}
      {showTrajectory && (
        <points geometry={built.path} onClick={pickPoint} name="trajectory-points">
          <pointsMaterial size={6} sizeAttenuation={false} color={colors.trajectory} />
        </points>
      )}
      {showFrustums && (
        <lineSegments geometry={built.frusta} onClick={pickFrustum} name="frusta">
          <lineBasicMaterial color={colors.frusta} transparent opacity={0.55} />
        </lineSegments>
      )}
      {selectedGeom && (
        <lineSegments geometry={selectedGeom} name="selected-frustum">
          <lineBasicMaterial color={colors.selected} />
        </lineSegments>
      )}
    </group>
  );
}

function ViewportToolbar() {
  const v = useViewport();
  return (
    <div className="viewport-toolbar" data-testid="viewport-toolbar">
      <label title="Point size (pixels)">
        Size
        <input
          type="range"
          min={1}
          max={8}
          step={1}
          data-testid="point-size"
          value={v.pointSize_px}
          onChange={(e) => v.setPointSize(Number(e.target.value))}
        />
      </label>
      <label>
        Colour
        <select
          data-testid="color-by"
          value={v.colorBy}
          onChange={(e) => v.setColorBy(e.target.value as ColorBy)}
        >
          <option value="rgb" disabled={v.mapState === 'ready' && !v.mapHasColor}>
            RGB
          </option>
          <option value="height">Height</option>
        </select>
      </label>
      <label className="check">
        <input
          type="checkbox"
          data-testid="show-trajectory"
          checked={v.showTrajectory}
          onChange={(e) => v.setShowTrajectory(e.target.checked)}
        />
        Path
      </label>
      <label className="check">
        <input
          type="checkbox"
          data-testid="show-frustums"
          checked={v.showFrustums}
          onChange={(e) => v.setShowFrustums(e.target.checked)}
        />
        Frusta
      </label>
      <span className="viewport-stats" data-testid="map-stats">
        {v.mapState === 'ready' &&
          `${formatCount(v.mapPointsShown)} pts${v.mapStride > 1 ? ` (1/${v.mapStride} of ${formatCount(v.mapPointsTotal)})` : ''}`}
        {v.mapState === 'loading' && 'Loading map…'}
      </span>
    </div>
  );
}

export function Viewport({
  map,
  frames,
  selected,
  onSelectFrame,
  generation,
  theme,
  children,
}: ViewportProps) {
  const mapState = useViewport((s) => s.mapState);
  const mapKey = useViewport((s) => s.mapKey);
  const mapError = useViewport((s) => s.mapError);
  const colorBy = useViewport((s) => s.colorBy);
  const pointSize = useViewport((s) => s.pointSize_px);
  const colors = THEME_COLORS[theme];

  useEffect(() => {
    void ensureMapLoaded(map, generation);
  }, [map, generation]);

  const entry = mapState === 'ready' ? getMapEntry(mapKey) : null;
  const scene: SceneFrame | null = useMemo(() => {
    if (entry) return { center: entry.center, radius_m: entry.radius_m, up: entry.up, key: entry.key };
    if (frames && frames.frames.length > 0) {
      const b = pointBounds(trajectoryPositions(frames.frames.map((f) => f.world_from_camera)));
      if (b) {
        const min = new THREE.Vector3(...b.min);
        const max = new THREE.Vector3(...b.max);
        return {
          center: min.clone().add(max).multiplyScalar(0.5),
          radius_m: Math.max(1, min.distanceTo(max) / 2),
          up: [0, 1, 0],
          key: `traj:${generation}`,
        };
      }
    }
    return null;
  }, [entry, frames, generation]);

  const empty = !map && (!frames || frames.frames.length === 0);
  return (
    <div className="viewport" data-testid="viewport" data-map-state={mapState}>
      <ViewportToolbar />
      <div className="viewport-canvas-wrap">
        <Canvas
          frameloop="demand"
          dpr={[1, 2]}
          gl={{ antialias: true, powerPreference: 'high-performance' }}
          camera={{ fov: 55, near: 0.01, far: 1000, position: [3, 3, 3] }}
          onCreated={({ gl }) => {
            gl.domElement.dataset.testid = 'viewport-canvas';
          }}
        >
          <color attach="background" args={[colors.bg]} />
          <RenderCounter />
          <OrbitRig scene={scene} />
          {entry && <MapCloud mapKey={entry.key} colorBy={colorBy} pointSize_px={pointSize} />}
          {frames && frames.frames.length > 0 && <ScreenProbe frames={frames} />}
          {frames && frames.frames.length > 0 && (
            <CameraPath
              frames={frames}
              selected={selected}
              onSelectFrame={onSelectFrame}
              scale_m={scene?.radius_m ?? 1}
              colors={colors}
            />
          )}
          {children}
        </Canvas>
        {empty && (
          <div className="viewport-empty">
            No map yet — import a capture to see its trajectory and fused map here.
          </div>
        )}
        {mapState === 'error' && (
          <div className="viewport-error" role="alert" data-testid="map-error">
            Map could not be shown: {mapError}
          </div>
        )}
        <div className="viewport-hint">
          drag: orbit · right-drag: pan · wheel: zoom · click a camera: select frame
        </div>
      </div>
    </div>
  );
}
