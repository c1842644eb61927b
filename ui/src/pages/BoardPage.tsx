import { Card, Empty, List, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { findAll, service } from '../api/client';
import type { PublicWorktree } from '../api/types';
import { useAuth } from '../auth/AuthContext';
import { ErrorAlert } from '../components/errors';

export function BoardPage() {
  const { client } = useAuth();
  const [worktrees, setWorktrees] = useState<PublicWorktree[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    findAll(service(client, 'worktrees'), { archived: false }).then(setWorktrees, setError);
  }, [client]);
  return (
    <Card title={<span data-testid="board-title">Board</span>}>
      <ErrorAlert error={error} />
      {worktrees && worktrees.length === 0 ? (
        <Empty description="No worktrees yet. Create one from a repository." />
      ) : (
        <List
          loading={!worktrees && !error}
          dataSource={worktrees ?? []}
          renderItem={(wt) => (
            <List.Item>
              <Link to={`/worktrees/${wt.id}`}>{wt.name}</Link> <Typography.Text type="secondary">{wt.branch}</Typography.Text>
            </List.Item>
          )}
        />
      )}
    </Card>
  );
}
