// Where a repository may come from (issue 14): a member clones only https:// URLs; every form that
// names something on this machine (an absolute path, file://) is for admins, and whether a source is
// local is decided from its text by the git module's one classifier, so the `url` field is no way
// around the rule. Forms the daemon refuses for everyone (ssh, scp-style, ext::, relative, ~) are 400.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { TRANSPORTS, cleanupTempDirs, client, makeRepo, outcome, ownerActor, quickActor, tempDir, type Actor } from '../helpers/worktree-fixture.js';
import type { PublicRepo } from '../../daemon/services/repos/repos.shared.js';

let d: TestDaemon;
let admin: Actor;
let member: Actor;
let source: string;

before(async () => {
  d = await startTestDaemon();
  admin = await ownerActor(d);
  member = await quickActor(d, 'member');
  source = makeRepo(path.join(tempDir('agor-repo-src-'), 'private'), { 'SECRET.md': 'not for members\n' });
});
after(async () => {
  await d.stop();
  cleanupTempDirs();
});

const repoCount = async () => Number((await d.app.get('db')('repos').count({ n: '*' }))[0].n);
const clones = () => (fs.existsSync(path.join(d.runtime.dataDir, 'repos')) ? fs.readdirSync(path.join(d.runtime.dataDir, 'repos')) : []);

describe('repo sources', () => {
  it('a member cannot clone a local repository through `url`, in any local form, on either transport', async () => {
    const before = [await repoCount(), clones()];
    const parent = path.dirname(source);
    const local = [
      source, // the reported hole: an absolute path as url
      `${source}/`,
      `${parent}/./private`,
      `${parent}/../${path.basename(parent)}/private`,
      '/definitely/not/here', // refused as local before the file system is looked at: no "does it exist" oracle
      pathToFileURL(source).href,
      `FILE://${source}`,
      `file://localhost${source}`,
    ];
    let i = 0;
    for (const url of local) {
      for (const transport of TRANSPORTS) {
        const error = await client(member, transport).service('repos').create({ url, name: `m-${(i += 1)}` }).then(
          () => null,
          (e: { name: string; message: string }) => e,
        );
        assert.equal(error?.name, 'Forbidden', `${transport} ${url}`);
        assert.match(error!.message, /Only admins/);
      }
    }
    assert.deepEqual([await repoCount(), clones()], before);
  });

  it('forms refused for everyone are 400 for members and admins alike: ssh, scp-style, ext::, relative, ~', async () => {
    const before = [await repoCount(), clones()];
    const refused = ['~/private', '~root/x', '../private', 'private', './private', 'localhost:/tmp/x', 'git@host:org/repo.git', `ext::sh -c touch% /tmp/pwned`, 'fd::3', 'ssh://host/x', 'git://host/x', 'http://host/x', `file:${source}`, '-uevil'];
    let i = 0;
    for (const who of [member, admin]) {
      for (const url of refused) {
        assert.equal(await outcome(who.rest.service('repos').create({ url, name: `r-${(i += 1)}` })), 'BadRequest', `${who.role} ${url}`);
      }
    }
    assert.deepEqual([await repoCount(), clones()], before);
  });

  it('an admin may still register a local path given as url (a managed clone)', async () => {
    const repo = (await admin.rest.service('repos').create({ url: source, name: 'by-admin' })) as PublicRepo;
    assert.equal(repo.managed, true);
    assert.ok(fs.existsSync(path.join(repo.path, 'SECRET.md')));
  });
});
