import { create } from 'zustand';

/** Labelling (open-vocabulary detectors over frames). Populated once the label job lands. */
interface LabelsStore {
  /** Class names the operator wants labelled. */
  vocabulary: string[];
  setVocabulary(v: string[]): void;
}

export const useLabels = create<LabelsStore>()((set) => ({
  vocabulary: [],
  setVocabulary: (vocabulary) => set({ vocabulary: vocabulary.map((s) => s.trim()).filter((s) => s.length > 0) }),
}));
