// Runs after `vite build`: adds the Swagger UI assets from the swagger-ui-dist
// package next to the app, so the API docs at /docs work with no network.
// (Vite already copied public/, which holds docs/index.html and docs/init.js.)
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(here, 'dist');
const swagger = join(here, 'node_modules', 'swagger-ui-dist');

if (!existsSync(join(dist, 'index.html'))) {
  console.error('dist/index.html is missing: run `vite build` first (`npm run build` does both).');
  process.exit(1);
}
mkdirSync(join(dist, 'docs', 'swagger-ui'), { recursive: true });
for (const file of ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-ui.css']) {
  cpSync(join(swagger, file), join(dist, 'docs', 'swagger-ui', file));
}
console.log(`frontend built into ${dist} (app at /, API docs at /docs/)`);
