// What the admin console's sections share: a pager, dialogs with forms, table rows, a refresher
// that runs only while the tab is visible, and the page's own words for API errors.

import { ApiError } from "./api.js";
import { announce, clearFormError, fill, h, showFormError } from "./dom.js";
import { formatDate, formatNumber, t } from "./i18n.js";

export { formatDate, formatNumber };

/** The `?name=` values of the page's URL (for links such as the audit log of one account). */
export function urlParam(name) {
  return new URLSearchParams(window.location.search).get(name) ?? "";
}

/** Show `error` (an ApiError or text) in `region`, a `role="alert"` element; "" clears it. */
export function showError(region, error) {
  if (!region) return;
  region.textContent = error ? (error instanceof ApiError ? error.text : String(error)) : "";
}

/** Page links under a list: Previous, "Page 2 of 5", Next. `go(page)` loads another page. */
export function renderPager(nav, pagination, go) {
  if (!nav) return;
  if (!pagination || pagination.totalPages <= 1) {
    fill(nav);
    nav.hidden = true;
    return;
  }
  nav.hidden = false;
  fill(
    nav,
    h(
      "button",
      { type: "button", class: "button", disabled: pagination.page <= 1, onclick: () => go(pagination.page - 1) },
      t("common.previous"),
    ),
    h("span", {}, t("common.pageOf", { page: pagination.page, pages: pagination.totalPages })),
    h(
      "button",
      { type: "button", class: "button", disabled: !pagination.hasMore, onclick: () => go(pagination.page + 1) },
      t("common.next"),
    ),
  );
}

/** A table cell; `number` aligns it right. */
export function cell(content, { number = false, header = false } = {}) {
  return h(header ? "th" : "td", { class: number ? "number" : null, scope: header ? "row" : null }, content);
}

/** An empty table body's one row, spanning `columns`. */
export function emptyRow(columns, text = t("common.none")) {
  return h("tr", {}, h("td", { colspan: columns, class: "empty" }, text));
}

/**
 * Wire a `<dialog>` holding a `<form>`: its close buttons close it, `submit(form)` runs on submit
 * (an ApiError shows in the form's alert region, the named field marked), and on success the
 * dialog closes and `done(result)` runs. Returns `open(prepare)`: `prepare(form)` fills the form.
 */
export function formDialog(dialog, { submit, done = () => {} }) {
  const form = dialog.querySelector("form");
  for (const button of dialog.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => dialog.close());
  }
  let opener = null;
  dialog.addEventListener("close", () => opener?.focus?.());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(form);
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const result = await submit(form);
      dialog.close();
      await done(result);
    } catch (error) {
      if (error?.name === "AbortError") return;
      showFormError(form, error instanceof ApiError || error instanceof FormProblem ? error : new FormProblem(String(error)));
    } finally {
      button.disabled = false;
    }
  });
  return (prepare = () => {}) => {
    opener = document.activeElement;
    form.reset();
    clearFormError(form);
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    prepare(form);
    dialog.showModal();
  };
}

/** A problem found in a form before anything was sent: its text and the field to fix. */
export class FormProblem extends Error {
  constructor(text, field = null) {
    super(text);
    this.field = field;
  }

  get text() {
    return this.message;
  }
}

/**
 * Call `load()` now and every `seconds` while the tab is visible; at once when it becomes visible
 * again. Returns `refresh()` to run it out of turn.
 */
export function every(seconds, load) {
  let timer = null;
  let queue = Promise.resolve();
  // Calls run one after another: a refresh asked for during a load runs after it, with fresh data.
  const run = () => {
    clearTimeout(timer);
    queue = queue
      .then(load)
      .catch(() => {})
      .then(() => {
        clearTimeout(timer);
        if (document.visibilityState === "visible") timer = setTimeout(run, seconds * 1000);
      });
    return queue;
  };
  document.addEventListener("visibilitychange", () => {
    clearTimeout(timer);
    if (document.visibilityState === "visible") run();
  });
  run();
  return run;
}

/** Run `action` for a button: disabled meanwhile, `said` announced after, errors in `region`. */
export async function act(button, region, action, said) {
  button.disabled = true;
  showError(region, "");
  try {
    const result = await action();
    if (said) announce(typeof said === "function" ? said(result) : said);
    return result;
  } catch (error) {
    showError(region, error);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** A `<dl>` of [term, value] pairs. */
export function facts(pairs, className = "facts") {
  return h("dl", { class: className }, pairs.map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, value))));
}
