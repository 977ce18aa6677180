/** Which items of a fixed-size horizontal list are visible, with overscan on both sides. */
export interface VisibleRange {
  /** First index to render (inclusive). */
  start: number;
  /** One past the last index to render. */
  end: number;
}

export function visibleRange(
  scrollOffset_px: number,
  viewportSize_px: number,
  itemSize_px: number,
  count: number,
  overscan = 4,
): VisibleRange {
  if (
    count <= 0 ||
    itemSize_px <= 0 ||
    !Number.isFinite(scrollOffset_px) ||
    !Number.isFinite(viewportSize_px)
  ) {
    return { start: 0, end: 0 };
  }
  const first = Math.floor(Math.max(0, scrollOffset_px) / itemSize_px);
  const visible = Math.ceil(Math.max(0, viewportSize_px) / itemSize_px) + 1;
  const start = Math.max(0, Math.min(count, first - overscan));
  const end = Math.max(start, Math.min(count, first + visible + overscan));
  return { start, end };
}

/** Scroll offset that brings item `index` into view (centred) for a list of the given size. */
export function scrollOffsetFor(
  index: number,
  viewportSize_px: number,
  itemSize_px: number,
  count: number,
): number {
  const total = count * itemSize_px;
  const target = index * itemSize_px + itemSize_px / 2 - viewportSize_px / 2;
  return Math.max(0, Math.min(Math.max(0, total - viewportSize_px), target));
}
