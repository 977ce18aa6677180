import { useWaypoints } from './store';

export function WaypointsPane() {
  const count = useWaypoints((s) => s.waypoints.length);
  return (
    <div className="pane-empty" data-testid="empty-state">
      <h2>No waypoints yet</h2>
      <p>{count === 0 ? 'Run a query (Query pane, key 4) and save its best match as a robot goal; saved goals are listed here for export.' : `${count} waypoint(s).`}</p>
    </div>
  );
}
