import { useEffect, useMemo, useState } from 'react';
import { Alert, Button, Card, DatePicker, Empty, List, Select, Space, Tag, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import type { PublicAuditEvent } from '../api/types';
import { AUDIT_ACTIONS } from '../../../daemon/audit/actions.js';
import type { SettingsApi } from './client';
import { exact, when } from './format';
import { useCardSize } from './layout';
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

/** "on user ada@example.com", "on worktree fix-login": ids resolved to names where known. */
function target(e: PublicAuditEvent, names: Map<string, string>): string | null {
  if (!e.target_type && !e.target_id) return null;
  const id = e.target_id ?? '';
  return `${e.target_type ?? ''} ${names.get(id) ?? (id.length > 20 ? `${id.slice(0, 8)}…` : id)}`.trim();
}

/** Details as "key: value · key: value", never a raw JSON blob. */
function detailsText(details: PublicAuditEvent['details']): string | null {
  if (details === null || details === undefined) return null;
  if (typeof details === 'string') return details;
  const parts = Object.entries(details).map(([k, v]) => `${k.replace(/_/g, ' ')}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length ? parts.join(' · ') : null;
}

/** Admins and owners: the hash-chained audit log, newest first, with filters and the chain's status. */
export function AuditSection({ api }: { api: SettingsApi }) {
  const cardSize = useCardSize();
  const [filters, setFilters] = useState<Filters>({});
  const [page, setPage] = useState(1);
  const events = useLoad(() => api.audit(queryOf(filters, page)), [api, filters, page]);
  const users = useLoad(() => api.users(), [api]);
  const worktrees = useLoad(() => api.worktrees().catch(() => null), [api]);
  const names = useMemo(
    () => new Map<string, string>([...(users.data?.data ?? []).map((u) => [u.id, u.email] as const), ...(worktrees.data?.data ?? []).map((w) => [w.id, w.name] as const)]),
    [users.data, worktrees.data],
  );
  // Following along: on the first page, new rows show up as they are written (at most one reload a second).
  const { reload } = events;
  useEffect(() => {
    if (page !== 1) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = api.onAuditAppended(() => {
      timer ??= setTimeout(() => {
        timer = undefined;
        void reload(true);
      }, 1000);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [api, page, reload]);
  const set = (patch: Partial<Filters>) => {
    setFilters((f) => ({ ...f, ...patch }));
    setPage(1);
  };
  const filtered = Boolean(filters.action || filters.actor || filters.worktree_id || filters.range);

  return (
    <Card size={cardSize} title="Audit log" data-testid="settings-audit" extra={<Button size="small" onClick={() => void events.reload()}>Refresh</Button>}>
      <ChainStatus api={api} />
      <div style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(180px, 1fr))', gap: 8, marginBottom: 12 }}>
        <Select allowClear showSearch virtual={false} placeholder="Action" aria-label="Filter by action" data-testid="audit-filter-action" style={{ width: '100%' }} options={ACTION_OPTIONS} value={filters.action} onChange={(action?: string) => set({ action })} />
        <Select
          allowClear
          showSearch={{ optionFilterProp: 'label' }}
          placeholder="Actor"
          aria-label="Filter by actor"
          style={{ width: '100%' }}
          options={(users.data?.data ?? []).map((u) => ({ value: u.id, label: u.email }))}
          value={filters.actor}
          onChange={(actor?: string) => set({ actor })}
        />
        <Select
          allowClear
          showSearch={{ optionFilterProp: 'label' }}
          placeholder="Worktree"
          aria-label="Filter by worktree"
          style={{ width: '100%' }}
          options={(worktrees.data?.data ?? []).map((w) => ({ value: w.id, label: w.name }))}
          value={filters.worktree_id}
          onChange={(worktree_id?: string) => set({ worktree_id })}
        />
        <DatePicker.RangePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" allowEmpty={[true, true]} aria-label="Filter by time" value={filters.range ?? null} onChange={(range) => set({ range: range as Filters['range'] })} style={{ width: '100%', maxWidth: 440, gridColumn: '1 / -1', minWidth: 0 }} />
      </div>
      {filtered && (
        <Button type="link" style={{ padding: 0, marginBottom: 8 }} onClick={() => { setFilters({}); setPage(1); }}>
          Clear filters
        </Button>
      )}
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
            {(target(e, names) || e.worktree_id || detailsText(e.details)) && (
              <Typography.Paragraph type="secondary" ellipsis={{ rows: 2, expandable: true, symbol: 'more' }} style={{ margin: '2px 0 0', fontSize: 12, overflowWrap: 'anywhere' }}>
                {[target(e, names) && `on ${target(e, names)}`, e.worktree_id && `in worktree ${names.get(e.worktree_id) ?? e.worktree_id}`, detailsText(e.details)].filter(Boolean).join(' — ')}
              </Typography.Paragraph>
            )}
          </List.Item>
        )}
      />
    </Card>
  );
}
