// `npm run setup`: installs everything the tests need on a fresh machine (npm packages, Debian Chromium).
import { ensureSystemPackages, installDeps } from './lib.mjs';

installDeps();
ensureSystemPackages();
console.log('Set-up complete.');
