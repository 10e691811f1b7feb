import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { App } from '@/app/App';
import { loadEnv } from '@/config/env';

import './index.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

try {
  loadEnv();
  createRoot(container).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
} catch (error) {
  // A misconfigured build says so plainly instead of rendering a broken shop.
  container.textContent = error instanceof Error ? error.message : String(error);
  throw error;
}
