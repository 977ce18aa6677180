import { createStudio } from '../../core/studio';
import { startWebHost, type WebHost } from './server';

export interface ServeOptions {
  port: number;
  projectDir?: string;
  openDemo: boolean;
  rendererDir: string;
  userDataDir: string;
  resourcesDir: string;
  token?: string;
  print: (line: string) => void;
  json?: boolean;
}

/** `clip-fields serve`: the studio core + the web host, until SIGINT/SIGTERM. Prints the tokenised URL. */
export async function serveStudio(opts: ServeOptions): Promise<WebHost> {
  const studio = await createStudio({
    warmQueries: true,
    host: 'web',
    userDataDir: opts.userDataDir,
    resourcesDir: opts.resourcesDir,
    ...(opts.projectDir ? { projectDir: opts.projectDir } : {}),
    openDemo: opts.openDemo,
  });
  const host = await startWebHost({
    studio,
    rendererDir: opts.rendererDir,
    port: opts.port,
    ...(opts.token ? { token: opts.token } : {}),
  });
  if (opts.json) opts.print(JSON.stringify({ url: host.url, port: host.port, token: host.token }));
  else opts.print(`Studio: ${host.url}`);
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    void host
      .close()
      .then(() => studio.dispose())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return host;
}
