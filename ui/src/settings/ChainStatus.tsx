import { Alert, Button } from 'antd';
import { SafetyCertificateOutlined } from '@ant-design/icons';
import type { SettingsApi } from './client';
import { when } from './format';
import { useLoad } from './useLoad';

/** The audit log's hash chain, re-verified by the daemon on each load: verified, or broken at seq N. */
export function ChainStatus({ api }: { api: SettingsApi }) {
  const chain = useLoad(() => api.auditChain(), [api]);
  const again = (
    <Button size="small" style={{ marginLeft: 4 }} onClick={() => void chain.reload()} loading={chain.loading}>
      Verify again
    </Button>
  );
  if (chain.error) return <Alert data-testid="audit-chain-status" type="warning" showIcon title={`Could not check the audit chain: ${chain.error}`} description={again} style={{ marginBottom: 16 }} />;
  const status = chain.data;
  if (!status) return <Alert data-testid="audit-chain-status" type="info" showIcon title="Verifying the audit chain…" style={{ marginBottom: 16 }} />;
  if (status.ok) {
    return (
      <Alert
        data-testid="audit-chain-status"
        type="success"
        showIcon
        icon={<SafetyCertificateOutlined />}
        title={`Chain verified: ${status.count} events, none edited, removed or inserted.`}
        description={<>Checked {when(status.checked_at)}; head at seq {status.head.seq}. {again}</>}
        style={{ marginBottom: 16 }}
      />
    );
  }
  return (
    <Alert
      data-testid="audit-chain-status"
      type="error"
      role="alert"
      showIcon
      title={`Chain broken at seq ${status.seq}`}
      description={
        <>
          {status.reason}. Events from seq {status.seq} on cannot be trusted; {status.count} earlier events verified. Run <code>agor audit verify</code> on the server and investigate. {again}
        </>
      }
      style={{ marginBottom: 16 }}
    />
  );
}
