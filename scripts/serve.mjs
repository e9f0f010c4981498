// `npm run serve`: the headless server (the wizard in any browser), building the renderer first if needed.
import { existsSync } from 'node:fs';
import { installDeps, must, root } from './lib.mjs';

installDeps();
if (!existsSync(`${root}out/renderer/index.html`)) must('npx', ['electron-vite', 'build']);
must('node', ['bin/finetune.mjs', 'serve', ...process.argv.slice(2)]);
