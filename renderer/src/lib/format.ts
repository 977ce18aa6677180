/** Human formatting helpers for the UI. */

export function formatEta(eta_s: number | null | undefined): string {
  if (eta_s == null || !Number.isFinite(eta_s) || eta_s < 0) return '';
  const s = Math.round(eta_s);
  if (s < 60) return `${s}s left`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s left`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m left`;
}

/** Progress fraction in [0, 1], or null when the total is unknown. */
export function progressFraction(done: number, total: number): number | null {
  if (!(total > 0) || !Number.isFinite(done)) return null;
  return Math.max(0, Math.min(1, done / total));
}

export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return String(n);
}

export function formatMetres(m: number): string {
  if (!Number.isFinite(m)) return '—';
  return Math.abs(m) < 10 ? `${m.toFixed(2)} m` : `${m.toFixed(1)} m`;
}
