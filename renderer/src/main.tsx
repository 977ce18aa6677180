import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { useApp } from './features/app/store';
import { startStudio } from './features/sync';
import { installTestHooks } from './test-hooks';
import './styles.css';

installTestHooks();
document.documentElement.dataset.theme = useApp.getState().theme;
// Follow the OS theme until the operator picks one explicitly.
if (typeof matchMedia === 'function') {
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', (e) => {
    let saved: string | null = null;
    try {
      saved = localStorage.getItem('clip-fields-studio.theme');
    } catch {
      /* storage unavailable */
    }
    if (!saved) useApp.setState({ theme: e.matches ? 'dark' : 'light' });
  });
}
startStudio();

const rootEl = document.getElementById('root');
if (!rootEl) throw new Error('index.html has no #root element');
createRoot(rootEl).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
