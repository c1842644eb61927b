import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@feathersjs/koa';
import { NotFound } from '@feathersjs/errors';
import type { Context, Next } from 'koa';

/** dist/ui, next to dist/daemon (this file runs as dist/daemon/http/static-ui.js). */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

/**
 * The built web UI (ui/ → dist/ui). It answers only GET/HEAD of `/`, `/index.html` and
 * `/assets/*`: client routes live in the URL fragment (`/#/board`), so there is no fallback that
 * could shadow a service path, /health or /socket.io, and an unknown path stays a 404.
 * The page is public (it holds no data); everything it shows comes from authenticated calls.
 */
export function webUi(dir: string = DEFAULT_UI_DIR) {
  // gzip: a prebuilt <file>.gz (ui/precompress.mjs) goes to browsers that accept it.
  const serve = serveStatic(dir, { index: 'index.html', hidden: false, gzip: true, brotli: false });
  return async function webUiRoute(ctx: Context, next: Next) {
    const isUiPath = ctx.path === '/' || ctx.path === '/index.html' || ctx.path.startsWith('/assets/');
    if (!isUiPath || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (!fs.existsSync(path.join(dir, 'index.html'))) throw new NotFound('The web UI is not built: run `npm run build`');
    // Hashed asset names change with their content; the page itself must always be re-checked.
    ctx.set('Cache-Control', ctx.path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.vary('Accept-Encoding');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    // Inline styles: the component library injects its CSS at run time. Scripts only from here.
    ctx.set(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    try {
      return await serve(ctx, next);
    } catch (error) {
      // koa-send refuses traversal (`/assets/../x`, 403), undecodable names (400) and the like. Nothing
      // is served and nothing is worth a log line: anyone may send these, as often as they like.
      const status = (error as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) throw new NotFound(`Path ${ctx.path.slice(0, 200)} not found`);
      throw error;
    }
  };
}

/** Error codes of a response whose client went away mid-body (a reload, a closed tab, a cancelled download). */
const CLIENT_GONE = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_DESTROYED']);

/**
 * Koa's 'error' listener for errors after the response started (middleware errors are answered by
 * http/errors.ts). Koa pipes a streamed body (the UI's files) into the socket and reports a browser
 * that aborts the download as an error, which its default listener prints as a stack trace; an
 * aborted download is normal. Anything else is still logged as Koa would.
 */
export function logResponseError(error: Error & { code?: string; status?: number; expose?: boolean }): void {
  if (error.code && CLIENT_GONE.has(error.code)) return;
  if (error.status === 404 || error.expose) return;
  console.error('[error] while sending a response:', error);
}
