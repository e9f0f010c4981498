/**
 * The browser UI's folder browser: sub-folders with their image counts, hidden folders and links left out, nothing
 * outside the home directory or a recent dataset folder, and the request through the service's boundary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderBrowseError, listFolders } from '../../src-main/core/data/folderBrowser';

const tmp = () => realpathSync(mkdtempSync(join(tmpdir(), 'ft-browse-')));

function tree() {
  const home = tmp();
  const pets = join(home, 'pets');
  for (const c of ['cat', 'dog']) {
    mkdirSync(join(pets, c), { recursive: true });
    for (let i = 0; i < 3; i++) writeFileSync(join(pets, c, `${i}.jpg`), 'x');
    writeFileSync(join(pets, c, 'notes.txt'), 'x');
  }
  mkdirSync(join(home, '.secret'));
  const outside = tmp();
  mkdirSync(join(outside, 'elsewhere'));
  symlinkSync(outside, join(home, 'link-out'));
  return { home, pets, outside };
}

test('lists sub-folders with their images, without hidden folders or links', () => {
  const { home, pets } = tree();
  const top = listFolders(undefined, [], home);
  assert.equal(top.dir, home);
  assert.equal(top.parent, null, 'the home directory is a root');
  assert.deepEqual(top.folders, [{ name: 'pets', path: pets, images: 0 }]);
  const inPets = listFolders(pets, [], home);
  assert.equal(inPets.parent, home);
  assert.deepEqual(
    inPets.folders.map((f) => [f.name, f.images]),
    [
      ['cat', 3],
      ['dog', 3],
    ],
  );
  assert.equal(listFolders(join(pets, 'cat'), [], home).images, 3);
});

test('refuses folders outside the home directory, also through a link or ..; a recent dataset folder is allowed', () => {
  const { home, outside } = tree();
  for (const dir of [outside, join(home, 'link-out'), join(home, '..'), '/'])
    assert.throws(() => listFolders(dir, [], home), FolderBrowseError, dir);
  const recent = listFolders(outside, [outside], home);
  assert.equal(recent.parent, null, 'a recent folder is a root: its parent is not offered');
  assert.deepEqual(
    recent.folders.map((f) => f.name),
    ['elsewhere'],
  );
  assert.throws(() => listFolders(join(home, 'missing'), [], home), /Folder not found/);
});

test("each refusal is a code the browser says in the user's language, the paths as its parameters", () => {
  const { home, pets, outside } = tree();
  const codeOf = (dir: string) => {
    try {
      listFolders(dir, [], home);
    } catch (err) {
      assert.ok(err instanceof FolderBrowseError);
      return err.coded;
    }
    return assert.fail(`${dir} was listed`);
  };
  assert.deepEqual(codeOf(join(home, 'missing')), { code: 'browse.notFound', params: { path: join(home, 'missing') } });
  const file = join(pets, 'cat', '0.jpg');
  assert.deepEqual(codeOf(file), { code: 'browse.notAFolder', params: { path: file } });
  assert.deepEqual(codeOf(outside), { code: 'browse.outsideHome', params: { path: outside } });
  assert.deepEqual(codeOf(join(home, 'link-out')), {
    code: 'browse.linkOutsideHome',
    params: { path: join(home, 'link-out'), target: outside },
  });
});
