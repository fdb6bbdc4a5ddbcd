// The credits page: the balance, the unlimited tier and the history of every credit movement.

import { api, ApiError, query } from "../api.js";
import { fill, h } from "../dom.js";
import { formatCredits, formatDate, formatNumber, has, t } from "../i18n.js";
import { refreshBalance } from "../layout.js";

const LIMIT = 20;
const amount = document.querySelector("[data-amount]");
const unlimited = document.querySelector("[data-unlimited]");
const history = document.querySelector("[data-history]");
const pager = document.querySelector("[data-pager]");
const error = document.querySelector("[data-error]");

function showError(failure) {
  error.textContent = failure instanceof ApiError ? failure.text : t("errors.UNKNOWN");
}

async function loadBalance() {
  try {
    const balance = await refreshBalance();
    amount.textContent = formatCredits(balance.balance);
    renderUnlimited(balance.unlimited);
  } catch (failure) {
    showError(failure);
  }
}

function renderUnlimited(tier) {
  if (!tier) {
    fill(unlimited, h("p", { class: "muted" }, t("credits.unlimitedNone")));
    return;
  }
  const term = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
  fill(
    unlimited,
    h(
      "p",
      {},
      h(
        "span",
        { class: `badge ${tier.active ? "good" : ""}` },
        t(tier.active ? "credits.unlimitedActive" : "credits.unlimitedInactive"),
      ),
    ),
    h(
      "dl",
      { class: "credits-terms" },
      term(t("credits.dailyQuota"), t("credits.posesCount", { count: formatNumber(tier.dailyQuota) })),
      term(t("credits.usedToday"), t("credits.posesCount", { count: formatNumber(tier.usedToday) })),
      term(
        t("credits.expires"),
        tier.expiresAt ? h("time", { datetime: tier.expiresAt }, formatDate(tier.expiresAt)) : t("credits.never"),
      ),
    ),
  );
}

async function loadHistory(page) {
  history.setAttribute("aria-busy", "true");
  try {
    const answer = await api(`/api/credits/history${query({ page, limit: LIMIT })}`);
    renderHistory(answer.entries, answer.pagination);
  } catch (failure) {
    showError(failure);
  } finally {
    history.removeAttribute("aria-busy");
  }
}

function kindLabel(kind) {
  return has(`credits.kind.${kind}`) ? t(`credits.kind.${kind}`) : kind;
}

function renderHistory(entries, pagination) {
  if (!entries.length) {
    fill(history, h("p", { class: "card empty" }, t("credits.historyEmpty")));
    pager.hidden = true;
    return;
  }
  fill(
    history,
    h(
      "div",
      { class: "table-wrap card credits-table-wrap" },
      h(
        "table",
        { class: "credits-table" },
        h("caption", { class: "visually-hidden" }, t("credits.historyHeading")),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, t("credits.colDate")),
            h("th", { scope: "col", class: "number" }, t("credits.colChange")),
            h("th", { scope: "col" }, t("credits.colKind")),
            h("th", { scope: "col", class: "number" }, t("credits.colBalance")),
            h("th", { scope: "col" }, t("credits.colDetails")),
          ),
        ),
        h("tbody", {}, entries.map(row)),
      ),
    ),
  );
  pager.hidden = pagination.totalPages <= 1;
  if (!pager.hidden) {
    fill(
      pager,
      h(
        "button",
        { type: "button", class: "button", disabled: pagination.page <= 1, onclick: () => loadHistory(pagination.page - 1) },
        t("common.previous"),
      ),
      h("span", { "aria-live": "polite" }, t("common.pageOf", { page: pagination.page, pages: pagination.totalPages })),
      h(
        "button",
        { type: "button", class: "button", disabled: !pagination.hasMore, onclick: () => loadHistory(pagination.page + 1) },
        t("common.next"),
      ),
    );
  }
}

function row(entry) {
  const sign = entry.amount > 0 ? "+" : entry.amount < 0 ? "−" : "";
  const link =
    entry.referenceType === "generation" && entry.referenceId
      ? h("a", { href: `/generations/${encodeURIComponent(entry.referenceId)}` }, t("credits.viewGeneration"))
      : null;
  return h(
    "tr",
    { class: entry.amount >= 0 ? "credits-in" : "credits-out" },
    h("td", {}, h("time", { datetime: entry.createdAt }, formatDate(entry.createdAt))),
    h("td", { class: "number credits-change" }, `${sign}${formatNumber(Math.abs(entry.amount))}`),
    h("td", {}, kindLabel(entry.kind)),
    h("td", { class: "number", "data-label": t("credits.colBalance") }, formatNumber(entry.balanceAfter)),
    // The reason is the ledger's own record (an administrator may have typed it), shown as data.
    h("td", { class: "credits-details" }, entry.reason ? h("span", {}, entry.reason) : null, link ? [" ", link] : null),
  );
}

loadBalance();
loadHistory(1);
