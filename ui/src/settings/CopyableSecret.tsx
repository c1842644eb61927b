import { useState } from 'react';
import { Button, Input, Space } from 'antd';
import { CheckOutlined, CopyOutlined } from '@ant-design/icons';

/** A value to copy once (a new API key): read-only field that selects itself, and a copy button. */
export function CopyableSecret({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      // No clipboard permission (e.g. plain http on another host): leave it selected for Ctrl+C.
      const field = document.querySelector<HTMLInputElement>('[data-testid="new-api-key"]');
      field?.select();
    }
  };
  return (
    <Space.Compact style={{ width: '100%' }}>
      <Input readOnly value={value} aria-label={label} data-testid="new-api-key" onFocus={(e) => e.currentTarget.select()} style={{ fontFamily: 'monospace' }} />
      <Button icon={copied ? <CheckOutlined /> : <CopyOutlined />} onClick={copy} data-testid="copy-api-key">
        {copied ? 'Copied' : 'Copy'}
      </Button>
    </Space.Compact>
  );
}
