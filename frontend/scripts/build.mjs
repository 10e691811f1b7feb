// Builds dist/: the placeholder pages from public/ and the Swagger UI assets
// from the swagger-ui-dist package, so the API docs work with no network.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(here, 'dist');
const swagger = join(here, 'node_modules', 'swagger-ui-dist');

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'docs', 'swagger-ui'), { recursive: true });
cpSync(join(here, 'public'), dist, { recursive: true });
for (const file of ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-ui.css']) {
  cpSync(join(swagger, file), join(dist, 'docs', 'swagger-ui', file));
}
console.log(`frontend built into ${dist}`);
