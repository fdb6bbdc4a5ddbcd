// The generations list: the caller's generations, newest first, filtered by status, paged. The
// filter and page live in the URL (?status=&page=), so a link or a reload shows the same list.

import { api, APP, ApiError, query } from "../api.js";
import { fill, h } from "../dom.js";
import { formatDate, formatNumber, t } from "../i18n.js";
import { statusBadge } from "../generation-common.js";

const LIMIT = 20;
const list = document.querySelector("[data-list]");
const pager = document.querySelector("[data-pager]");
const error = document.querySelector("[data-error]");
const filter = document.querySelector("[data-filter]");
const select = filter.elements.status;

function current() {
  const params = new URLSearchParams(window.location.search);
  const page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
  return { status: params.get("status") ?? "", page };
}

function go(status, page, push = true) {
  const url = `/generations${query({ status, page: page > 1 ? page : "" })}`;
  if (push) window.history.pushState(null, "", url);
  load();
}

async function load() {
  const { status, page } = current();
  select.value = status;
  error.textContent = "";
  list.setAttribute("aria-busy", "true");
  try {
    const answer = await api(`${APP}/generations${query({ status, page, limit: LIMIT })}`);
    render(answer.generations, answer.pagination);
  } catch (failure) {
    error.textContent = failure instanceof ApiError ? failure.text : t("errors.UNKNOWN");
  } finally {
    list.removeAttribute("aria-busy");
  }
}

function render(generations, pagination) {
  if (!generations.length) {
    fill(
      list,
      h(
        "div",
        { class: "card empty" },
        h("p", {}, t("generations.empty")),
        h("a", { class: "button primary", href: "/generate" }, t("generations.startOne")),
      ),
    );
    pager.hidden = true;
    return;
  }
  fill(
    list,
    h(
      "div",
      { class: "table-wrap card gens-table-wrap" },
      h(
        "table",
        { class: "gens-table" },
        h("caption", { class: "visually-hidden" }, t("generations.listHeading")),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, t("generations.colGeneration")),
            h("th", { scope: "col" }, t("generations.colStatus")),
            h("th", { scope: "col" }, t("generations.colPoses")),
            h("th", { scope: "col", class: "number" }, t("generations.colCredits")),
            h("th", { scope: "col" }, t("generations.colCreated")),
          ),
        ),
        h("tbody", {}, generations.map(row)),
      ),
    ),
  );
  renderPager(pagination);
}

function row(generation) {
  const kind = t(generation.generationType === "TEXT_DESCRIPTION" ? "generations.text" : "generations.gallery");
  const done = generation.successCount;
  const failed = generation.failedCount;
  const canceled = generation.canceledCount ?? 0;
  return h(
    "tr",
    { dataset: { generationId: generation.id } },
    h(
      "td",
      { class: "gens-name" },
      h(
        "a",
        { href: `/generations/${encodeURIComponent(generation.id)}` },
        kind,
        h("span", { class: "visually-hidden" }, `, ${formatDate(generation.createdAt)}`),
      ),
      generation.textPrompt ? h("span", { class: "gens-prompt muted" }, generation.textPrompt) : null,
    ),
    h("td", {}, statusBadge(h("span"), generation.status)),
    h(
      "td",
      { class: "gens-counts" },
      h("span", {}, t("generations.posesDone", { completed: formatNumber(done), total: formatNumber(generation.totalPoses) })),
      failed ? h("span", { class: "gens-failed" }, t("generations.posesFailed", { failed: formatNumber(failed) })) : null,
      canceled
        ? h("span", { class: "gens-canceled" }, t("generations.posesCanceled", { canceled: formatNumber(canceled) }))
        : null,
    ),
    h(
      "td",
      { class: "number", "data-label": t("generations.colCredits") },
      formatNumber(generation.creditCharged - generation.creditRefunded),
    ),
    h("td", { "data-label": t("generations.colCreated") }, h("time", { datetime: generation.createdAt }, formatDate(generation.createdAt))),
  );
}

function renderPager(pagination) {
  pager.hidden = pagination.totalPages <= 1;
  if (pager.hidden) return;
  const { status } = current();
  fill(
    pager,
    h(
      "button",
      { type: "button", class: "button", disabled: pagination.page <= 1, onclick: () => go(status, pagination.page - 1) },
      t("common.previous"),
    ),
    h("span", { "aria-live": "polite" }, t("common.pageOf", { page: pagination.page, pages: pagination.totalPages })),
    h(
      "button",
      { type: "button", class: "button", disabled: !pagination.hasMore, onclick: () => go(status, pagination.page + 1) },
      t("common.next"),
    ),
  );
}

filter.addEventListener("submit", (event) => {
  event.preventDefault();
  go(select.value, 1);
});
// With script the choice applies at once; the button stays for those who prefer it.
select.addEventListener("change", () => go(select.value, 1));
window.addEventListener("popstate", () => load());

load();
