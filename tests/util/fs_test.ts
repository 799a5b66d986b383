/** lib/util/fs.ts: atomic writes replace whole files, create folders and leave no temporaries. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  isTempFileName,
  tempPathFor,
  writeFileAtomic,
  writeFileAtomicSync,
} from "../../lib/util/fs.ts";

Deno.test("writeFileAtomicSync replaces whole files and creates folders", () => {
  const root = Deno.makeTempDirSync({ prefix: "util_fs_" });
  try {
    const p = join(root, "x", "y", "f.txt");
    writeFileAtomicSync(p, "one");
    writeFileAtomicSync(p, "two");
    assert.equal(Deno.readTextFileSync(p), "two");
    assert.deepEqual([...Deno.readDirSync(join(root, "x", "y"))].map((e) => e.name), ["f.txt"]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("writeFileAtomic writes bytes and text, and names the file when it fails", async () => {
  const root = await Deno.makeTempDir({ prefix: "util_fs_" });
  try {
    const p = join(root, "a", "b.bin");
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...await Deno.readFile(p)], [1, 2, 3]);
    await writeFileAtomic(p, "text");
    assert.equal(await Deno.readTextFile(p), "text");
    assert.deepEqual([...Deno.readDirSync(join(root, "a"))].map((e) => e.name), ["b.bin"]);
    // A folder in the way: the error names the target and no temporary is left behind.
    await Deno.mkdir(join(root, "dir"));
    await assert.rejects(writeFileAtomic(join(root, "dir"), "x"), /write .*dir/);
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name).sort(), ["a", "dir"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("temporary names are recognised as leftovers", () => {
  const tmp = tempPathFor("/x/images.npy");
  assert.ok(tmp.startsWith("/x/images.npy.tmp-"));
  assert.ok(isTempFileName(tmp.slice(3)));
  assert.ok(!isTempFileName("images.npy"));
});
