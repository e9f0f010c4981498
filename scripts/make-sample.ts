/**
 * Writes the sample dataset the app ships for a first run (resources/sample/fashion-4): four easily told apart
 * Fashion-MNIST classes, 30 training images each from its training set and 10 validation images each from its test
 * set, as the 28 px PNGs they are. Run once by a developer; the output is committed with its licence.
 * Usage: node --import tsx scripts/make-sample.ts
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFashionMnist } from './fashion-mnist';

const out = new URL('../resources/sample/fashion-4', import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
await writeFashionMnist(out, 30, 10, undefined, ['tshirt', 'trouser', 'sneaker', 'bag']);
writeFileSync(
  join(out, 'LICENSE.txt'),
  `Sample images from Fashion-MNIST (https://github.com/zalandoresearch/fashion-mnist), as packaged by Debian
(dataset-fashion-mnist): 4 classes, 30 training and 10 validation images each, unchanged 28 x 28 grayscale.

Copyright 2017 Zalando SE. License: MIT (Expat):

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the "Software"), to deal in the Software without restriction, including without limitation the
rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit
persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of the
Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
`,
);
console.log(`wrote ${out}`);
