import { useEffect, useMemo } from 'react';
import { Viewport } from '../../viewport/Viewport';
import { useApp } from '../app/store';
import { useCapture } from '../capture/store';
import { buildPalette, colorOf, rgbCss } from '../labels/palette';
import { useLabels } from '../labels/store';
import { useFieldColors } from './field-colors';
import { FieldLabelLayer } from './FieldLabelLayer';

/** Most legend entries listed (the rest are summed). */
const LEGEND_MAX = 12;

/**
 * The map coloured by the field's top label per point, shown while "Colour map by field top label" is on.
 * Uses the Labels pane's palette (built from the same class names) so colours agree across panes.
 */
export function FieldMapView() {
  const enabled = useFieldColors((s) => s.enabled);
  const state = useFieldColors((s) => s.state);
  const error = useFieldColors((s) => s.error);
  const legend = useFieldColors((s) => s.legend);
  const unlabeled = useFieldColors((s) => s.unlabeled);
  const project = useApp((s) => s.project);
  const theme = useApp((s) => s.theme);
  const index = useCapture((s) => s.index);
  const generation = useCapture((s) => s.generation);
  const overview = useLabels((s) => s.overview);
  const overviewState = useLabels((s) => s.overviewState);

  useEffect(() => {
    if (enabled && overviewState === 'idle') void useLabels.getState().load();
  }, [enabled, overviewState]);

  const palette = useMemo(
    () =>
      buildPalette(
        overview
          ? [...overview.classes.map((c) => c.name), ...overview.rejected_classes]
          : legend.map((l) => l.label),
      ),
    [overview, legend],
  );

  if (!enabled || !project?.map) return null;
  const rest = legend.slice(LEGEND_MAX).reduce((n, l) => n + l.points, 0);
  return (
    <section className="tp-field-map" data-testid="field-map" data-state={state}>
      <div className="lp-viewport-bar">
        <b>Field top label per map point</b>
        {state === 'loading' && <span className="muted">Loading the field’s labels…</span>}
        {state === 'error' && (
          <span className="sev-error" role="alert" data-testid="field-map-error">
            Field colours could not be shown: {error}
          </span>
        )}
      </div>
      {state === 'ready' && (
        <ul className="tp-legend" data-testid="field-map-legend">
          {legend.slice(0, LEGEND_MAX).map((l) => (
            <li key={l.label} data-testid={`field-legend-${l.label}`}>
              <i className="sw" style={{ background: rgbCss(colorOf(palette, l.label)) }} /> {l.label}{' '}
              <span className="muted">{l.points.toLocaleString()}</span>
            </li>
          ))}
          {rest > 0 && (
            <li className="muted">
              +{legend.length - LEGEND_MAX} more ({rest.toLocaleString()})
            </li>
          )}
          {unlabeled > 0 && <li className="muted">no label {unlabeled.toLocaleString()}</li>}
        </ul>
      )}
      <div className="lp-viewport tp-field-viewport">
        <Viewport map={project.map} frames={index} selected={null} generation={generation} theme={theme}>
          {state === 'ready' && <FieldLabelLayer palette={palette} />}
        </Viewport>
      </div>
    </section>
  );
}
