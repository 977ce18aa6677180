/** The Content-Security-Policy the Electron host sends with every app:// response. */

export interface CspOptions {
  /**
   * Development: additionally lets the page connect to a local dev server (HMR websocket).
   * Never adds 'unsafe-eval'.
   */
  dev?: boolean;
}

export function buildCsp(options: CspOptions = {}): string {
  const connect = ["'self'", 'app:'];
  if (options.dev === true)
    connect.push('ws://localhost:*', 'http://localhost:*', 'ws://127.0.0.1:*', 'http://127.0.0.1:*');
  const directives: [string, string[]][] = [
    ['default-src', ["'self'"]],
    // 'wasm-unsafe-eval' lets WebAssembly compile (tfjs wasm backend); it does not enable eval().
    ['script-src', ["'self'", "'wasm-unsafe-eval'"]],
    ['style-src', ["'self'", "'unsafe-inline'"]],
    ['img-src', ["'self'", 'data:', 'blob:', 'app:']],
    ['connect-src', connect],
    ['worker-src', ["'self'", 'blob:']],
    // The Report pane shows the generated report (a project asset, no scripts) in a sandboxed iframe.
    ['frame-src', ["'self'", 'app:']],
    ['object-src', ["'none'"]],
    ['base-uri', ["'none'"]],
    ['form-action', ["'none'"]],
    ['frame-ancestors', ["'none'"]],
  ];
  return directives.map(([name, sources]) => `${name} ${sources.join(' ')}`).join('; ');
}
