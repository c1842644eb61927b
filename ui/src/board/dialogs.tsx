import { Alert, Form, Input, Modal, Radio, Select } from 'antd';
import { useEffect, useState } from 'react';
import { service } from '../api/client';
import type { PublicRepo, PublicWorktree } from '../api/types';
import { useAuth } from '../auth/AuthContext';
import { ErrorAlert } from '../components/errors';

const TIER_OPTIONS = [
  { value: 'none', label: 'none — private to owners' },
  { value: 'view', label: 'view — others can look' },
  { value: 'session', label: 'session — others can run their own sessions' },
  { value: 'prompt', label: "prompt — others can also prompt others' sessions" },
  { value: 'all', label: 'all — others can also open terminals, manage sessions' },
];
export { TIER_OPTIONS };

/** Register a repository: clone a URL (members) or a path on this machine (admins). */
export function CreateRepoDialog({ open, onClose }: { open: boolean; onClose: (repo?: PublicRepo) => void }) {
  const { client, user } = useAuth();
  const isAdmin = user?.role === 'admin' || user?.role === 'owner';
  const [form] = Form.useForm();
  const [source, setSource] = useState<'url' | 'path'>('url');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      const repo = await service(client, 'repos').create({ [source]: v.location.trim(), ...(v.name ? { name: v.name.trim() } : {}) });
      form.resetFields();
      onClose(repo);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title="Add a repository" open={open} onOk={submit} okText="Add" confirmLoading={busy} onCancel={() => onClose()} destroyOnHidden>
      <ErrorAlert error={error} />
      <Form form={form} layout="vertical" requiredMark={false}>
        <Form.Item label="Source">
          <Radio.Group value={source} onChange={(e) => setSource(e.target.value)} optionType="button">
            <Radio value="url">Clone a URL</Radio>
            <Radio value="path" disabled={!isAdmin}>
              Path on this machine
            </Radio>
          </Radio.Group>
        </Form.Item>
        {!isAdmin && <Alert type="info" showIcon style={{ marginBottom: 12 }} title="Local paths and file:// URLs are for admins: they read whatever the daemon can read." />}
        <Form.Item name="location" label={source === 'url' ? 'Git URL' : 'Path'} rules={[{ required: true, message: source === 'url' ? 'Enter a git URL' : 'Enter a path' }]}>
          <Input placeholder={source === 'url' ? 'https://github.com/org/repo.git' : '/srv/git/project'} />
        </Form.Item>
        <Form.Item name="name" label="Name (optional)" extra="Defaults to the last part of the URL or path.">
          <Input />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/** A new worktree (a branch checked out in its own directory); the creator becomes its owner. */
export function CreateWorktreeDialog({ open, repos, defaultRepo, onClose }: { open: boolean; repos: PublicRepo[]; defaultRepo?: string; onClose: (wt?: PublicWorktree) => void }) {
  const { client } = useAuth();
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // A repo added a moment ago (its event may arrive after the dialog opened) is picked once known.
  const fallbackRepo = defaultRepo ?? repos[0]?.id;
  useEffect(() => {
    if (open && fallbackRepo && !form.getFieldValue('repo_id')) form.setFieldsValue({ repo_id: fallbackRepo });
  }, [open, fallbackRepo, form]);
  const submit = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      const data: Record<string, unknown> = { repo_id: v.repo_id, name: v.name.trim(), others_can: v.others_can };
      if (v.branch?.trim()) data.branch = v.branch.trim();
      if (v.base?.trim()) data.base = v.base.trim();
      const wt = await service(client, 'worktrees').create(data);
      form.resetFields();
      onClose(wt);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title="New worktree" open={open} onOk={submit} okText="Create" confirmLoading={busy} onCancel={() => onClose()} destroyOnHidden>
      <ErrorAlert error={error} />
      {repos.length === 0 && <Alert type="info" showIcon style={{ marginBottom: 12 }} title="Add a repository first." />}
      <Form form={form} layout="vertical" requiredMark={false} initialValues={{ repo_id: defaultRepo ?? repos[0]?.id, others_can: 'session' }}>
        <Form.Item name="repo_id" label="Repository" rules={[{ required: true, message: 'Pick a repository' }]}>
          <Select options={repos.map((r) => ({ value: r.id, label: r.name }))} />
        </Form.Item>
        <Form.Item name="name" label="Name" rules={[{ required: true, message: 'Name the worktree' }]} extra="Letters, digits, '.', '_' or '-'.">
          <Input placeholder="fix-login-bug" />
        </Form.Item>
        <Form.Item name="branch" label="Branch (optional)" extra="Defaults to the worktree's name; created if it does not exist.">
          <Input />
        </Form.Item>
        <Form.Item name="base" label="Start from (optional)" extra="Branch or commit the new branch starts at; defaults to the repository's default branch.">
          <Input />
        </Form.Item>
        <Form.Item name="others_can" label="What others can do">
          <Select options={TIER_OPTIONS} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
