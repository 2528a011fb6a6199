/** Hash routes: the page works from any path the server serves it at, with no server-side routing. */
export function navigate(path: string): void {
  if (location.hash === `#${path}`) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = path;
}
