// `npm run setup`: installs everything the tests need on a fresh machine (npm packages, Debian Chromium).
import { ensureChromium, installDeps } from './lib.mjs';

installDeps();
ensureChromium();
console.log('Set-up complete.');
