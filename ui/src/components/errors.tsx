import { Alert, App as AntApp } from 'antd';
import { useCallback } from 'react';
import { errorMessage } from '../api/errors';

/** An inline, readable error (null renders nothing). */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return <Alert type="error" showIcon title={title} description={errorMessage(error)} role="alert" style={{ marginBottom: 12 }} />;
}

/**
 * Toasts for the outcome of actions: `fail(e)` shows any API error as a sentence,
 * `ok(text)` confirms. `run(action, okText)` wraps an async action with both.
 */
export function useNotify() {
  const { message } = AntApp.useApp();
  const fail = useCallback((error: unknown) => void message.error({ content: errorMessage(error), duration: 6 }), [message]);
  const ok = useCallback((text: string) => void message.success(text), [message]);
  const run = useCallback(
    async <T,>(action: () => Promise<T>, okText?: string): Promise<T | undefined> => {
      try {
        const result = await action();
        if (okText) ok(okText);
        return result;
      } catch (error) {
        fail(error);
        return undefined;
      }
    },
    [fail, ok],
  );
  return { fail, ok, run };
}
