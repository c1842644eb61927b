import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { Conflict, NotFound } from '@feathersjs/errors';
import type { Id, Paginated, Params } from '@feathersjs/feathers';
import type { Application } from '../../declarations.js';
import { nowIso } from '../../db/database.js';
import { allowOrThrow, subjectOf } from '../../rbac/authorize.js';
import { cloneRepo, cloneSourceProtocol, inspectRepo } from '../../git/index.js';
import { DEFAULT_PAGE, pageTotal } from '../pagination.js';
import { repoName, toPublicRepo, type PublicRepo, type RepoCreate, type RepoRow } from './repos.schema.js';

function nameFrom(source: string): string {
  const base = path.basename(source.replace(/\/+$/, '')).replace(/\.git$/, '');
  const parsed = repoName.safeParse(base);
  return parsed.success ? base : `repo-${crypto.randomBytes(3).toString('hex')}`;
}

/** Git repositories the daemon knows. Records are visible to every signed-in user. */
export class ReposService extends EventEmitter {
  constructor(private readonly app: Application) {
    super();
  }

  private get db() {
    return this.app.get('db');
  }

  async find(params: Params): Promise<Paginated<PublicRepo>> {
    subjectOf(params);
    const { $limit = DEFAULT_PAGE, $skip = 0, name } = (params.query ?? {}) as Record<string, any>;
    const query = this.db<RepoRow>('repos').select('*').select(this.db.raw('COUNT(*) OVER () AS total_count')).orderBy('name').limit($limit).offset($skip);
    if (name !== undefined) query.where('name', name);
    const rows = await query;
    const total = await pageTotal(rows, $skip, () => {
      const count = this.db('repos').count({ total: '*' });
      return name === undefined ? count : count.where('name', name);
    });
    return { total, limit: $limit, skip: $skip, data: rows.map(({ total_count: _t, ...r }: any) => toPublicRepo(r)) };
  }

  async get(id: Id, params: Params): Promise<PublicRepo> {
    subjectOf(params);
    const row = await this.db<RepoRow>('repos').where('id', String(id)).first();
    if (!row) throw new NotFound(`No repo with id ${id}`);
    return toPublicRepo(row);
  }

  async create(data: RepoCreate, params: Params): Promise<PublicRepo> {
    const subject = subjectOf(params);
    allowOrThrow(subject, 'repo.create');
    // A local path reads whatever the daemon user can read on this machine: an admin decision.
    // Whether a `url` is local is decided from its text by the git module (the one classifier), before
    // the file system is looked at, so a member learns nothing about which paths exist.
    const local = data.path !== undefined || cloneSourceProtocol(data.url!) === 'file';
    if (local) allowOrThrow(subject, 'repo.create_local');
    const name = data.name ?? nameFrom(data.path ?? data.url!);
    if (await this.db('repos').where('name', name).first('id')) throw new Conflict(`A repo named ${name} already exists; pass another "name"`);
    let repoPath: string;
    let managed = false;
    if (data.url !== undefined) {
      repoPath = path.join(this.app.get('runtime').dataDir, 'repos', name);
      if (fs.existsSync(repoPath)) throw new Conflict(`${repoPath} already exists on disk`);
      fs.mkdirSync(path.dirname(repoPath), { recursive: true, mode: 0o755 });
      await cloneRepo(data.url, repoPath, (line) => this.emit('progress', { user_id: subject.id, name, line }));
      managed = true;
    } else {
      repoPath = data.path!;
    }
    const info = await inspectRepo(repoPath);
    const row: RepoRow = {
      id: crypto.randomUUID(),
      name,
      path: info.path,
      source: data.url ?? info.path,
      managed,
      default_branch: info.defaultBranch ?? null,
      created_by: subject.id,
      created_at: nowIso(),
    };
    await this.db('repos').insert(row);
    return toPublicRepo(row);
  }

  async remove(id: Id, params: Params): Promise<PublicRepo> {
    const subject = subjectOf(params);
    const repo = await this.get(id, params);
    allowOrThrow(subject, 'repo.remove', repo.created_by);
    const worktrees = await this.db('worktrees').where('repo_id', repo.id).count({ n: '*' });
    if (Number(worktrees[0]!.n) > 0) throw new Conflict(`Repo ${repo.name} still has ${worktrees[0]!.n} worktree(s); delete them first`);
    await this.db('repos').where('id', repo.id).delete();
    if (repo.managed) fs.rmSync(repo.path, { recursive: true, force: true });
    return repo;
  }
}
