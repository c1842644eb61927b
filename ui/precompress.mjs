// Writes <file>.gz beside each built asset; the daemon serves it to browsers that accept gzip
// (daemon/http/static-ui.ts), so the UI loads ~3x smaller without compressing on every request.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const dir = path.resolve(process.argv[2] ?? 'dist/ui');
for (const sub of ['.', 'assets']) {
  const at = path.join(dir, sub);
  if (!fs.existsSync(at)) continue;
  for (const name of fs.readdirSync(at)) {
    if (!/\.(js|css|html|svg)$/.test(name)) continue;
    const file = path.join(at, name);
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(fs.readFileSync(file), { level: 9 }));
  }
}
