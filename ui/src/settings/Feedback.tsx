import { Alert } from 'antd';

export type FeedbackState = { type: 'success' | 'error' | 'info'; text: string } | null;

/** The outcome of the last action in a section: a readable sentence, dismissible. */
export function Feedback({ value, onClose }: { value: FeedbackState; onClose: () => void }) {
  if (!value) return null;
  return <Alert role={value.type === 'error' ? 'alert' : 'status'} type={value.type} title={value.text} showIcon closable={{ onClose }} style={{ marginBottom: 12 }} />;
}
