/**
 * Dropping onto the wizard in a browser: the drop overlay shows while dragging, and a drop explains that a browser
 * page cannot see a folder's path (the desktop app's preload gives it; there the folder is scanned as step 1's).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openWizard } from '../helpers/browser';

test('folder drop in the browser: overlay while dragging, then a notice naming what was dropped', async (t) => {
  const { page, pageErrors } = await openWizard(t, { perClass: 4, seed: 5 });
  const folderBefore = await page.getByTestId('folder-input').inputValue();
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], 'pets-folder', { type: '' }));
    window.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.getByTestId('drop-overlay').waitFor();
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], 'pets-folder', { type: '' }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  const notice = await page.getByTestId('drop-notice').innerText();
  assert.match(notice, /pets-folder/);
  assert.match(notice, /path/);
  assert.equal(await page.getByTestId('drop-overlay').count(), 0, 'the overlay goes away on drop');
  assert.equal(await page.getByTestId('folder-input').inputValue(), folderBefore, 'the folder is unchanged');
  assert.deepEqual(pageErrors, []);
});
