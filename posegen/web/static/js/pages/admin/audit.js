// Admin: the audit log, newest first, filtered by account and exact action; the filters live in the
// URL (?userId=…&action=…) so the users page can link to one account's entries.

import { api, query } from "../../api.js";
import { fill, h } from "../../dom.js";
import { t } from "../../i18n.js";
import { cell, emptyRow, formatDate, renderPager, showError, urlParam } from "../../admin-kit.js";

const rows = document.querySelector("[data-rows]");
const pager = document.querySelector("[data-pager]");
const listError = document.querySelector("[data-list-error]");
const filter = document.querySelector("[data-filter]");
const state = { userId: urlParam("userId"), action: urlParam("action"), page: 1 };
filter.elements.userId.value = state.userId;
filter.elements.action.value = state.action;

/** `{a: 1, b: "x"}` as `a: 1, b: x` (values that are objects as JSON). */
function describe(values) {
  if (!values) return "";
  return Object.entries(values)
    .map(([key, value]) => `${key}: ${typeof value === "object" && value !== null ? JSON.stringify(value) : String(value)}`)
    .join(", ");
}

const SHORT = 120; // characters of a change shown before it folds into a <details>

function side(label, values) {
  const text = describe(values);
  if (text.length <= SHORT) return h("div", {}, h("span", { class: "muted" }, `${label} `), text);
  return h("details", {}, h("summary", {}, h("span", { class: "muted" }, `${label} `), `${text.slice(0, SHORT)}…`), h("p", {}, text));
}

function change(entry) {
  return [entry.before ? side(t("admin.audit.before"), entry.before) : null, entry.after ? side(t("admin.audit.after"), entry.after) : null];
}

function row(entry) {
  return h(
    "tr",
    { dataset: { action: entry.action } },
    cell(formatDate(entry.createdAt)),
    cell(h("code", { class: "nowrap" }, entry.action)),
    cell(entry.actorId ? h("code", {}, entry.actorId) : t("admin.audit.system")),
    cell(entry.userId ? h("code", {}, entry.userId) : "—"),
    cell([entry.targetType, h("br"), h("code", { class: "muted" }, entry.targetId)]),
    cell(h("div", { class: "audit-change" }, change(entry))),
  );
}

async function load(page = state.page) {
  showError(listError, "");
  try {
    const result = await api(`/api/admin/audit-log${query({ userId: state.userId, action: state.action, page, limit: 50 })}`);
    state.page = result.pagination.page;
    fill(rows, result.entries.length ? result.entries.map(row) : emptyRow(6, t("admin.audit.none")));
    renderPager(pager, result.pagination, load);
  } catch (error) {
    showError(listError, error);
  }
}

filter.addEventListener("submit", (event) => {
  event.preventDefault();
  state.userId = filter.elements.userId.value.trim();
  state.action = filter.elements.action.value.trim();
  const url = new URL(window.location.href);
  url.search = query({ userId: state.userId, action: state.action });
  window.history.replaceState(null, "", url);
  load(1);
});

load(1);
