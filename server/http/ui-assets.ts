/**
 * The Weather Station's bundle, made with esbuild from `server/ui/` the first time a page asks
 * for it (in memory, about a second, once per process): no build step for users beyond
 * `npm install && npm start`, and no cost for a server nobody looks at.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface UiBundle {
  js: string;
  css: string;
  /** Validators of the two files, so a browser that has them is answered 304. */
  jsTag: string;
  cssTag: string;
}

const entry = fileURLToPath(new URL('../ui/main.tsx', import.meta.url));

let bundle: Promise<UiBundle> | undefined;

/** The bundle, built on first use and kept; a failed build is tried again on the next request. */
export function uiBundle(): Promise<UiBundle> {
  bundle ??= buildBundle().catch((error: unknown) => {
    bundle = undefined;
    throw error;
  });
  return bundle;
}

async function buildBundle(): Promise<UiBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    outdir: 'ui',
    format: 'esm',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const text = (extension: string) => result.outputFiles.find((file) => file.path.endsWith(extension))?.text ?? '';
  const tag = (content: string) => `"${createHash('sha256').update(content).digest('base64url').slice(0, 22)}"`;
  const js = text('.js');
  const css = text('.css');
  return { js, css, jsTag: tag(js), cssTag: tag(css) };
}

/** The page every route of the UI starts from. */
export function uiPage(roots: readonly string[]): string {
  const escape = (text: string) => text.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="cumulus-roots" content="${escape(roots.join(','))}">
<title>Cumulus Weather Station</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/app.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<div id="app"><noscript>The Weather Station needs JavaScript. The server's health is at /healthz and its metrics at /metrics.</noscript></div>
</body>
</html>
`;
}
