import { Card } from 'antd';
import { useParams } from 'react-router-dom';

export function SessionPage() {
  const { id } = useParams();
  return <Card title="Session">{id}</Card>;
}
