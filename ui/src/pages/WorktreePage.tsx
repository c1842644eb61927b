import { Card } from 'antd';
import { useParams } from 'react-router-dom';

export function WorktreePage() {
  const { id } = useParams();
  return <Card title="Worktree">{id}</Card>;
}
