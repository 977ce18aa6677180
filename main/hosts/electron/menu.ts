/** The application menu. Project actions run in main; view actions are forwarded to the renderer. */
import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from './ipc-channels';

export interface MenuActions {
  newProject(): void;
  openProject(): void;
  importCapture(): void;
  /** Forward a renderer-side command (panes, theme) to the focused window. */
  command(command: MenuCommand): void;
  about(): void;
  showDataFolder(): void;
}

export function buildAppMenu(actions: MenuActions, options: { isMac: boolean; devTools: boolean }): Menu {
  const cmd = (label: string, command: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    ...(accelerator ? { accelerator } : {}),
    click: () => actions.command(command),
  });
  const template: MenuItemConstructorOptions[] = [
    ...(options.isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'New Project…', accelerator: 'CmdOrCtrl+N', click: () => actions.newProject() },
        { label: 'Open Project…', accelerator: 'CmdOrCtrl+O', click: () => actions.openProject() },
        { type: 'separator' },
        { label: 'Import Capture…', accelerator: 'CmdOrCtrl+I', click: () => actions.importCapture() },
        { type: 'separator' },
        options.isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        {
          label: 'Panes',
          submenu: [
            cmd('Frames', 'view.pane.frames', 'CmdOrCtrl+1'),
            cmd('Query', 'view.pane.query', 'CmdOrCtrl+2'),
            cmd('Jobs', 'view.pane.jobs', 'CmdOrCtrl+3'),
            cmd('Problems', 'view.pane.problems', 'CmdOrCtrl+4'),
            { type: 'separator' },
            cmd('Reset Layout', 'view.layout.reset'),
          ],
        },
        {
          label: 'Theme',
          submenu: [
            cmd('System', 'view.theme.system'),
            cmd('Light', 'view.theme.light'),
            cmd('Dark', 'view.theme.dark'),
          ],
        },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(options.devTools
          ? [{ type: 'separator' as const }, { role: 'reload' as const }, { role: 'toggleDevTools' as const }]
          : []),
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'About CLIP-Fields Studio', click: () => actions.about() },
        { label: 'Show Data Folder', click: () => actions.showDataFolder() },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
