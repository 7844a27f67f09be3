import type { DemoPage } from './demo-page.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * The HTML every page shares: the header (home link, page title, connection state) and an
 * empty <main> that the page's front-end fills. `body` is server-rendered content for it.
 */
export function pageShell(page: Pick<DemoPage, 'id' | 'title' | 'summary'>, body = ''): string {
  const title = page.id === 'landing' ? 'Tether Live' : `${escapeHtml(page.title)} · Tether Live`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="${escapeHtml(page.summary)}">
<title>${title}</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='6' fill='%2306b6d4'/%3E%3C/svg%3E">
<link rel="stylesheet" href="/assets/${page.id}/app.css">
</head>
<body data-page="${page.id}">
<header class="topbar">
  <a class="brand" href="/"><span class="brand-dot"></span>Tether Live</a>
  ${page.id === 'landing' ? '' : `<span class="topbar-title">${escapeHtml(page.title)}</span>`}
  <span class="conn" id="conn" data-state="connecting" role="status" aria-live="polite">connecting…</span>
</header>
<main id="app" class="page page-${page.id}">${body}</main>
<script type="module" src="/assets/${page.id}/app.js"></script>
</body>
</html>
`;
}
