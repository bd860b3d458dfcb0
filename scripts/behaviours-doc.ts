// Writes docs/sfb-behaviours.md from the catalogue in src/sfb/behaviours/ (npm run docs:behaviours).
import { writeFileSync } from 'node:fs';
import { renderCatalogue } from '../src/sfb/behaviours/render.js';

writeFileSync(new URL('../docs/sfb-behaviours.md', import.meta.url), renderCatalogue());
