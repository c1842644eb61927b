import { useMemo, useState } from 'react';
import { Alert, Button, Card, DatePicker, Empty, List, Select, Space, Tag, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import type { PublicAuditEvent } from '../api/types';
import { AUDIT_ACTIONS } from '../../../daemon/audit/actions.js';
import type { SettingsApi } from './client';
import { exact, when } from './format';
import { useLoad } from './useLoad';
import { ChainStatus } from './ChainStatus';

const PAGE = 50;

interface Filters {
  action?: string;
  actor?: string;
  worktree_id?: string;
  range?: [Dayjs | null, Dayjs | null] | null;
}

const ACTION_OPTIONS = (() => {
  const prefixes = [...new Set(AUDIT_ACTIONS.map((a) => a.split('.')[0]!))];
  return [
    { label: 'Groups', options: prefixes.map((p) => ({ value: `${p}.*`, label: `${p}.* (all ${p} events)` })) },
    { label: 'Actions', options: AUDIT_ACTIONS.map((a) => ({ value: a, label: a })) },
  ];
})();

function queryOf(filters: Filters, page: number): Record<string, unknown> {
  const [since, until] = filters.range ?? [];
  return {
    $limit: PAGE,
    $skip: (page - 1) * PAGE,
    ...(filters.action && { action: filters.action }),
    ...(filters.actor && { actor: filters.actor }),
    ...(filters.worktree_id && { worktree_id: filters.worktree_id }),
    ...(since && { since: since.toDate().toISOString() }),
    // The picker's end is inclusive to a person; the API's `until` is exclusive.
    ...(until && { until: until.add(1, 'minute').startOf('minute').toDate().toISOString() }),
  };
}

function target(e: PublicAuditEvent): string | null {
  if (!e.target_type && !e.target_id) return null;
  return `${e.target_type ?? '?'} ${e.target_id ?? ''}`.trim();
}

/** Admins and owners: the hash-chained audit log, newest first, with filters and the chain's status. */
export function AuditSection({ api }: { api: SettingsApi }) {
  const [filters, setFilters] = useState<Filters>({});
  const [page, setPage] = useState(1);
  const events = useLoad(() => api.audit(queryOf(filters, page)), [api, filters, page]);
  const users = useLoad(() => api.users(), [api]);
  const worktrees = useLoad(() => api.worktrees().catch(() => null), [api]);
  const names = useMemo(() => new Map((worktrees.data?.data ?? []).map((w) => [w.id, w.name])), [worktrees.data]);
  const set = (patch: Partial<Filters>) => {
    setFilters((f) => ({ ...f, ...patch }));
    setPage(1);
  };
  const filtered = Boolean(filters.action || filters.actor || filters.worktree_id || filters.range);

  return (
    <Card title="Audit log" data-testid="settings-audit" extra={<Button size="small" onClick={() => void events.reload()}>Refresh</Button>}>
      <ChainStatus api={api} />
      <Space wrap style={{ marginBottom: 12, width: '100%' }} size={8}>
        <Select allowClear showSearch virtual={false} placeholder="Action" aria-label="Filter by action" data-testid="audit-filter-action" style={{ width: 200 }} options={ACTION_OPTIONS} value={filters.action} onChange={(action?: string) => set({ action })} />
        <Select
          allowClear
          showSearch={{ optionFilterProp: 'label' }}
          placeholder="Actor"
          aria-label="Filter by actor"
          style={{ width: 200 }}
          options={(users.data?.data ?? []).map((u) => ({ value: u.id, label: u.email }))}
          value={filters.actor}
          onChange={(actor?: string) => set({ actor })}
        />
        <Select
          allowClear
          showSearch={{ optionFilterProp: 'label' }}
          placeholder="Worktree"
          aria-label="Filter by worktree"
          style={{ width: 200 }}
          options={(worktrees.data?.data ?? []).map((w) => ({ value: w.id, label: w.name }))}
          value={filters.worktree_id}
          onChange={(worktree_id?: string) => set({ worktree_id })}
        />
        <DatePicker.RangePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" allowEmpty={[true, true]} aria-label="Filter by time" value={filters.range ?? null} onChange={(range) => set({ range: range as Filters['range'] })} style={{ maxWidth: '100%' }} />
        {filtered && (
          <Button type="link" onClick={() => { setFilters({}); setPage(1); }}>
            Clear filters
          </Button>
        )}
      </Space>
      {events.error && <Alert type="error" showIcon title={`Could not load the audit log: ${events.error}`} style={{ marginBottom: 12 }} />}
      <List
        size="small"
        loading={events.loading}
        dataSource={events.data?.data ?? []}
        rowKey="seq"
        pagination={(events.data?.total ?? 0) > PAGE ? { current: page, pageSize: PAGE, total: events.data!.total, onChange: setPage, showSizeChanger: false, size: 'small' } : false}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={filtered ? 'No events match these filters. Widen the time range or clear a filter.' : 'No events recorded yet.'} /> }}
        renderItem={(e) => (
          <List.Item data-testid="audit-row" style={{ display: 'block' }}>
            <Space wrap size={[8, 2]}>
              <Typography.Text type="secondary" style={{ fontVariantNumeric: 'tabular-nums' }}>
                #{e.seq}
              </Typography.Text>
              <Tag color={e.decision === 'deny' ? 'red' : e.action.startsWith('auth') ? 'blue' : 'default'}>{e.action}</Tag>
              <span>{e.actor_label}</span>
              <Typography.Text type="secondary" title={exact(e.at)}>
                {when(e.at)}
              </Typography.Text>
            </Space>
            {(target(e) || e.worktree_id || e.details) && (
              <div style={{ marginTop: 2, fontSize: 12, opacity: 0.8, overflowWrap: 'anywhere' }}>
                {target(e) && <span style={{ marginRight: 12 }}>on {target(e)}</span>}
                {e.worktree_id && <span style={{ marginRight: 12 }}>worktree {names.get(e.worktree_id) ?? e.worktree_id}</span>}
                {e.details && <code>{typeof e.details === 'string' ? e.details : JSON.stringify(e.details)}</code>}
              </div>
            )}
          </List.Item>
        )}
      />
    </Card>
  );
}
