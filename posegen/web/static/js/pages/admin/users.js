// Admin: accounts. Search, page through, grant or take credits with a reason, change the role, the
// active flag and the unlimited tier (PATCH /api/admin/users/{id}).

import { api, newIdempotencyKey, query } from "../../api.js";
import { announce, fill, h } from "../../dom.js";
import { formatCredits, t } from "../../i18n.js";
import { refreshBalance } from "../../layout.js";
import { FormProblem, emptyRow, formDialog, formatDate, renderPager, showError, urlParam } from "../../admin-kit.js";

const rows = document.querySelector("[data-rows]");
const pager = document.querySelector("[data-pager]");
const listError = document.querySelector("[data-list-error]");
const searchForm = document.querySelector("[data-search]");
const state = { search: urlParam("search"), page: 1, users: new Map() };
searchForm.elements.search.value = state.search;

function unlimitedText(tier) {
  if (!tier?.active) return t("admin.users.unlimitedOff");
  const quota = t("admin.users.quotaPerDay", { count: tier.dailyQuota });
  return tier.expiresAt ? `${quota} · ${t("admin.users.until", { date: formatDate(tier.expiresAt) })}` : quota;
}

function row(user) {
  return h(
    "tr",
    { dataset: { userId: user.id } },
    h("td", {}, user.name),
    h("td", {}, user.email),
    h(
      "td",
      {},
      h("span", { class: user.role === "admin" ? "badge accent" : "badge" }, t(`admin.users.role${user.role === "admin" ? "Admin" : "User"}`)),
    ),
    h(
      "td",
      {},
      h("span", { class: user.isActive ? "badge good" : "badge bad" }, user.isActive ? t("admin.users.active") : t("admin.users.inactive")),
    ),
    h("td", { class: "number" }, formatCredits(user.balance)),
    h("td", {}, unlimitedText(user.unlimited)),
    h(
      "td",
      {},
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button", onclick: () => openCredits(user) }, t("admin.users.credits")),
        h("button", { type: "button", class: "button", onclick: () => openAccount(user) }, t("admin.users.edit")),
        h("a", { href: `/admin/audit${query({ userId: user.id })}` }, t("admin.users.auditLink")),
      ),
    ),
  );
}

async function load(page = state.page) {
  showError(listError, "");
  try {
    const result = await api(`/api/admin/users${query({ search: state.search, page, limit: 20 })}`);
    state.page = result.pagination.page;
    state.users = new Map(result.users.map((user) => [user.id, user]));
    fill(rows, result.users.length ? result.users.map(row) : emptyRow(7, t("admin.users.noneFound")));
    renderPager(pager, result.pagination, load);
  } catch (error) {
    showError(listError, error);
  }
}

searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  state.search = searchForm.elements.search.value.trim();
  load(1);
});

// --- credits ---------------------------------------------------------------------------------

const creditsDialog = document.getElementById("credits-dialog");
let creditsFor = null;
let creditsKey = null;
const openCreditsDialog = formDialog(creditsDialog, {
  async submit(form) {
    const amount = Number.parseInt(form.elements.amount.value, 10);
    if (!Number.isInteger(amount) || amount < 1 || amount > 1_000_000) {
      throw new FormProblem(t("admin.users.amountInvalid"), "amount");
    }
    const reason = form.elements.reason.value.trim();
    if (!reason) throw new FormProblem(t("admin.users.reasonMissing"), "reason");
    const signed = form.elements.direction.value === "debit" ? -amount : amount;
    return api(`/api/admin/users/${encodeURIComponent(creditsFor.id)}/credits`, {
      method: "POST",
      body: { amount: signed, reason },
      idempotencyKey: creditsKey, // a double submit moves credits once
    });
  },
  async done(result) {
    announce(t("admin.users.creditsDone", { name: creditsFor.name, balance: formatCredits(result.balance) }));
    await load();
    refreshBalance().catch(() => {});
  },
});

function openCredits(user) {
  creditsFor = user;
  creditsKey = newIdempotencyKey();
  openCreditsDialog((form) => {
    form.querySelector("[data-title]").textContent = t("admin.users.creditsFor", { name: user.name });
    form.querySelector("[data-who]").textContent = `${user.email} · ${formatCredits(user.balance)}`;
  });
}

// --- role, active, unlimited tier --------------------------------------------------------------

const accountDialog = document.getElementById("account-dialog");
let editing = null;
const openAccountDialog = formDialog(accountDialog, {
  async submit(form) {
    const quota = Number.parseInt(form.elements.dailyQuota.value || "0", 10);
    if (!Number.isInteger(quota) || quota < 0 || quota > 100_000) {
      throw new FormProblem(t("admin.users.quotaInvalid"), "dailyQuota");
    }
    const expires = form.elements.expiresAt.value;
    const body = {
      role: form.elements.role.value,
      isActive: form.elements.isActive.checked,
      // The tier lasts to the end of the chosen day (UTC), or forever when no day is chosen.
      unlimited: {
        active: form.elements.unlimitedActive.checked,
        dailyQuota: quota,
        expiresAt: expires ? `${expires}T23:59:59Z` : null,
      },
    };
    return api(`/api/admin/users/${encodeURIComponent(editing.id)}`, { method: "PATCH", body });
  },
  async done(result) {
    announce(t("admin.users.saved", { name: result.user.name }));
    await load();
  },
});

function openAccount(user) {
  editing = user;
  openAccountDialog((form) => {
    form.querySelector("[data-who]").textContent = `${user.name} · ${user.email}`;
    form.elements.role.value = user.role;
    form.elements.isActive.checked = user.isActive;
    form.elements.unlimitedActive.checked = Boolean(user.unlimited?.active);
    form.elements.dailyQuota.value = String(user.unlimited?.dailyQuota ?? 0);
    form.elements.expiresAt.value = user.unlimited?.expiresAt ? user.unlimited.expiresAt.slice(0, 10) : "";
  });
}

load(1);
