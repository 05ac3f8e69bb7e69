// Small DOM helpers shared by the dashboard's modules.

/** The element with `id`; throws naming the id when the page lacks it (a broken index.html). */
export function byId(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}

/** `<tag class=… >text</tag>` with optional attributes and children. */
export function element(tag, { className, text, attributes } = {}, children = []) {
  const created = document.createElement(tag);
  if (className) created.className = className;
  if (text !== undefined && text !== null) created.textContent = String(text);
  for (const [name, value] of Object.entries(attributes || {})) created.setAttribute(name, value);
  created.append(...children);
  return created;
}

/** Adds `className` for `milliseconds` (restarting it when it is already there). */
export function flash(target, className, milliseconds) {
  target.classList.remove(className);
  void target.offsetWidth; // restarts the CSS animation
  target.classList.add(className);
  setTimeout(() => target.classList.remove(className), milliseconds);
}
