/** Linear-time order statistics over typed arrays (no comparator sorts on the query path). */

/** The k-th smallest value of `a` (0-based), partially reordering `a` in place (Hoare quickselect). */
export function selectKth(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Indices of the `k` largest values of `a`, largest first (ties by index). */
export function topIndices(a: Float32Array, k: number): number[] {
  const n = a.length;
  if (k <= 0) return [];
  if (n <= k) return Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y]! - a[x]! || x - y);
  const cut = selectKth(Float32Array.from(a), n - k);
  const above: number[] = [];
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    if (a[i]! > cut) above.push(i);
    else if (a[i] === cut) at.push(i);
  }
  for (const i of at) {
    if (above.length >= k) break;
    above.push(i);
  }
  return above.sort((x, y) => a[y]! - a[x]! || x - y);
}

/** Median of `a` (NaN-free), in linear expected time; `a` is left partially reordered. */
export function medianInPlace(a: Float32Array): number {
  const n = a.length;
  if (n === 0) return 0;
  if (n % 2) return selectKth(a, (n - 1) / 2);
  const upper = selectKth(a, n / 2);
  // After selecting n/2, everything left of it is <= it: the lower middle is their maximum.
  let lower = -Infinity;
  for (let i = 0; i < n / 2; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + upper) / 2;
}
