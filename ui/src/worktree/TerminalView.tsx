import { Alert, Button, Space, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { service } from '../api/client';
import type { TerminalEventData } from '../api/types';
import { errorMessage } from '../api/errors';
import { useAuth } from '../auth/AuthContext';

/**
 * A shell in the worktree over the `terminals` service: output arrives only on this socket,
 * keystrokes go back with `input`, size with `resize`; closed when this view goes away.
 */
export default function TerminalView({ worktreeId }: { worktreeId: string }) {
  const { client } = useAuth();
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<{ phase: 'opening' | 'open' | 'exited' | 'failed'; message?: string; runsAs?: string }>({ phase: 'opening' });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const terminals = service(client, 'terminals');
    const term = new Terminal({ cursorBlink: true, fontSize: 13, fontFamily: 'ui-monospace, Menlo, Consolas, "Liberation Mono", monospace', convertEol: false, scrollback: 5000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host.current!);
    fit.fit();
    let id: string | null = null;
    let disposed = false;
    const onOutput = (e: TerminalEventData['output']) => e.id === id && e.data && term.write(e.data);
    const onExit = (e: TerminalEventData['exit']) => {
      if (e.id !== id) return;
      id = null;
      setState({ phase: 'exited', message: e.signal ? `closed (signal ${e.signal})` : `exited with code ${e.code}` });
    };
    terminals.on('output', onOutput);
    terminals.on('exit', onExit);
    terminals.create({ worktree_id: worktreeId, cols: term.cols, rows: term.rows }).then(
      (opened) => {
        if (disposed) return void terminals.remove(opened.id).catch(() => undefined);
        id = opened.id;
        setState({ phase: 'open', runsAs: opened.runs_as });
        term.focus();
      },
      (e) => setState({ phase: 'failed', message: errorMessage(e) }),
    );
    const input = term.onData((data) => id && void terminals.input({ id, data }).catch(() => undefined));
    const resize = () => {
      fit.fit();
      if (id) void terminals.resize({ id, cols: term.cols, rows: term.rows }).catch(() => undefined);
    };
    const observer = new ResizeObserver(resize);
    observer.observe(host.current!);
    return () => {
      disposed = true;
      observer.disconnect();
      input.dispose();
      terminals.off('output', onOutput);
      terminals.off('exit', onExit);
      if (id) void terminals.remove(id).catch(() => undefined);
      term.dispose();
    };
  }, [client, worktreeId, generation]);

  return (
    <div>
      {state.phase === 'failed' && <Alert type="error" showIcon title="Could not open a terminal" description={state.message} style={{ marginBottom: 8 }} />}
      <Space style={{ marginBottom: 8 }} wrap>
        <Typography.Text type="secondary" data-testid="terminal-status">
          {state.phase === 'opening' && 'Opening…'}
          {state.phase === 'open' && `Shell runs as ${state.runsAs}`}
          {state.phase === 'exited' && `The shell ${state.message}.`}
        </Typography.Text>
        {(state.phase === 'exited' || state.phase === 'failed') && (
          <Button size="small" onClick={() => { setState({ phase: 'opening' }); setGeneration((g) => g + 1); }}>
            Open a new terminal
          </Button>
        )}
      </Space>
      <div style={{ background: '#000', padding: 6, borderRadius: 6 }}>
        <div ref={host} data-testid="terminal" style={{ height: 'min(60vh, 480px)', overflow: 'hidden' }} />
      </div>
    </div>
  );
}
