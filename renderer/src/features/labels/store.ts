import { create } from 'zustand';
import type {
  FrameDetail,
  FrameDetection,
  LabelEdit,
  LabelsOverview,
  StudioEvent,
  ChannelResult,
} from '../../../../preload/contract';
import { getBridge } from '../../bridge';
import { useApp } from '../app/store';
import { useJobs } from '../jobs/store';
import { reloadLabelPoints, resetLabelPoints } from './label-layer';

export type LabelObject = ChannelResult<'labels.objects'>['objects'][number];
export type Load = 'idle' | 'loading' | 'ready' | 'none' | 'error';

/** Label QA: overview, the current frame's detections, objects and filters. Typed arrays live in label-layer. */
interface LabelsStore {
  overview: LabelsOverview | null;
  overviewState: Load;
  overviewError: string | null;
  /** Capture frame number (not a list position) shown in the frame view. */
  frame: number | null;
  frameDetail: FrameDetail | null;
  detections: FrameDetection[];
  frameState: Load;
  frameError: string | null;
  /** Index (FrameDetection.index) of the detection open in the side panel. */
  selected: number | null;
  objects: LabelObject[] | null;
  objectsState: Load;
  objectsError: string | null;
  /** Class filter (null = all classes) for boxes and 3D colouring. */
  classFilter: string[] | null;
  minScore: number;
  showRejected: boolean;
  /** Draw labeled points coloured by class in the 3D view. */
  show3d: boolean;
  editError: string | null;
  editing: boolean;
  runOpen: boolean;
  load(): Promise<void>;
  reset(): void;
  apply(e: StudioEvent): void;
  setFrame(frame: number | null): Promise<void>;
  stepFrame(delta: number): void;
  select(index: number | null): void;
  loadObjects(): Promise<void>;
  edit(edit: LabelEdit): Promise<boolean>;
  undo(): Promise<void>;
  setClassFilter(c: string[] | null): void;
  toggleClass(name: string): void;
  setMinScore(v: number): void;
  setShowRejected(v: boolean): void;
  setShow3d(v: boolean): void;
  setRunOpen(v: boolean): void;
}

const fail = (r: { code: string; message: string }) => `${r.message} (${r.code})`;
let frameRequest = 0;
let seen: { dir: string | null; has: boolean } = { dir: null, has: false };

export const useLabels = create<LabelsStore>()((set, get) => ({
  overview: null,
  overviewState: 'idle',
  overviewError: null,
  frame: null,
  frameDetail: null,
  detections: [],
  frameState: 'idle',
  frameError: null,
  selected: null,
  objects: null,
  objectsState: 'idle',
  objectsError: null,
  classFilter: null,
  minScore: 0,
  showRejected: true,
  show3d: true,
  editError: null,
  editing: false,
  runOpen: false,
  load: async () => {
    set({ overviewState: 'loading', overviewError: null });
    const r = await getBridge().invoke('labels.overview', {});
    if (!r.ok) {
      const none = r.code === 'NOT_FOUND' || r.code === 'NO_PROJECT';
      set({ overview: null, overviewState: none ? 'none' : 'error', overviewError: fail(r) });
      resetLabelPoints();
      return;
    }
    seen = { dir: useApp.getState().project?.dir ?? null, has: true };
    set({ overview: r.data, overviewState: 'ready' });
    void reloadLabelPoints();
    const cur = get().frame;
    const frames = r.data.frames;
    if (cur !== null && frames.includes(cur)) void get().setFrame(cur);
    else void get().setFrame(frames[0] ?? null);
    if (get().objects !== null || get().objectsState === 'error') void get().loadObjects();
  },
  reset: () => {
    frameRequest++;
    set({
      overview: null,
      overviewState: 'idle',
      overviewError: null,
      frame: null,
      frameDetail: null,
      detections: [],
      frameState: 'idle',
      selected: null,
      objects: null,
      objectsState: 'idle',
      classFilter: null,
      editError: null,
    });
    resetLabelPoints();
  },
  apply: (e) => {
    if (e.type === 'job.done' && useJobs.getState().byId[e.id]?.kind === 'label') void get().load();
    if (e.type === 'project.changed') {
      // Edits also announce project changes; they already refreshed, so only react to a new project
      // or labels appearing/disappearing.
      const dir = e.project?.dir ?? null;
      const has = !!e.project?.labels;
      const prev = seen;
      seen = { dir, has };
      if (!has) get().reset();
      else if (prev.dir !== dir || !prev.has) {
        if (prev.dir !== dir) get().reset();
        void get().load();
      }
    }
  },
  setFrame: async (frame) => {
    const req = ++frameRequest;
    if (frame === null) {
      set({ frame: null, frameDetail: null, detections: [], frameState: 'idle', selected: null });
      return;
    }
    const changed = frame !== get().frame;
    set({ frame, frameState: 'loading', frameError: null, ...(changed ? { selected: null } : {}) });
    const [d, dets] = await Promise.all([
      getBridge().invoke('capture.frame', { index: frame }),
      getBridge().invoke('labels.frame', { index: frame }),
    ]);
    if (req !== frameRequest) return;
    if (!dets.ok) {
      set({ frameState: 'error', frameError: fail(dets), detections: [], frameDetail: d.ok ? d.data : null });
      return;
    }
    set({
      frameDetail: d.ok ? d.data : null,
      detections: dets.data.detections,
      frameState: 'ready',
      frameError: d.ok ? null : `frame image: ${fail(d)}`,
    });
  },
  stepFrame: (delta) => {
    const frames = get().overview?.frames ?? [];
    if (frames.length === 0) return;
    const cur = get().frame;
    const pos = cur === null ? -1 : frames.indexOf(cur);
    const next = frames[Math.max(0, Math.min(frames.length - 1, pos + delta))];
    if (next !== undefined && next !== cur) void get().setFrame(next);
  },
  select: (selected) => set({ selected }),
  loadObjects: async () => {
    set({ objectsState: 'loading', objectsError: null });
    const r = await getBridge().invoke('labels.objects', {});
    if (r.ok) set({ objects: r.data.objects, objectsState: 'ready' });
    else set({ objects: null, objectsState: 'error', objectsError: fail(r) });
  },
  edit: async (edit) => {
    set({ editing: true, editError: null });
    const r = await getBridge().invoke('labels.edit', { edit });
    set({ editing: false });
    if (!r.ok) {
      set({ editError: fail(r) });
      return false;
    }
    afterEdit(r.data);
    return true;
  },
  undo: async () => {
    set({ editing: true, editError: null });
    const r = await getBridge().invoke('labels.undo', {});
    set({ editing: false });
    if (!r.ok) {
      set({ editError: fail(r) });
      return;
    }
    afterEdit(r.data);
  },
  setClassFilter: (classFilter) => set({ classFilter }),
  toggleClass: (name) => {
    const cur = get().classFilter;
    if (!cur) return set({ classFilter: [name] });
    const next = cur.includes(name) ? cur.filter((c) => c !== name) : [...cur, name];
    set({ classFilter: next.length ? next : null });
  },
  setMinScore: (minScore) => set({ minScore: Math.max(0, Math.min(1, minScore)) }),
  setShowRejected: (showRejected) => set({ showRejected }),
  setShow3d: (show3d) => set({ show3d }),
  setRunOpen: (runOpen) => set({ runOpen }),
}));

/** Counts, the current frame's detections, 3D colours and objects all change after an edit. */
function afterEdit(overview: LabelsOverview): void {
  const s = useLabels.getState();
  const names = new Set(overview.classes.map((c) => c.name));
  const filter = s.classFilter?.filter((c) => names.has(c)) ?? null;
  useLabels.setState({
    overview,
    overviewState: 'ready',
    classFilter: filter && filter.length ? filter : null,
  });
  void reloadLabelPoints();
  if (s.frame !== null) void s.setFrame(s.frame);
  if (s.objects !== null) void s.loadObjects();
  const app = useApp.getState();
  if (app.notice?.kind === 'error') app.setNotice(null);
}
