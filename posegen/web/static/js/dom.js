// Small DOM helpers: build elements without innerHTML (no markup from data, ever), announce
// changes to screen readers, show an error next to a form.

/**
 * h("button", {class: "x", onclick: fn, "aria-label": "…"}, "text", child…) → element.
 * Attributes whose value is false, null or undefined are left out; `true` sets an empty one.
 */
export function h(tag, attributes = {}, ...children) {
  const element = tag.includes(":")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.split(":")[1])
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of `element`. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** Say `text` through the page's polite live region (and show it briefly). */
export function announce(text) {
  const toast = document.querySelector("[data-toast]");
  if (!toast) return;
  toast.textContent = text;
  toast.classList.add("visible");
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => toast.classList.remove("visible"), 5000);
}

/** Show `text` in the form's alert region; mark the named field invalid when the API named one. */
export function showFormError(form, error) {
  const region = form.querySelector("[data-error]");
  if (region) region.textContent = error?.text ?? String(error ?? "");
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  if (error?.field) {
    const input = form.querySelector(`[name="${CSS.escape(error.field)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }
}

export function clearFormError(form) {
  const region = form.querySelector("[data-error]");
  if (region) region.textContent = "";
}
