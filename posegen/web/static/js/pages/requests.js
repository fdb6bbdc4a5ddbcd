// Pose requests: ask for a pose the library lacks, see one's own requests, and vote on the
// popular open ones (never one's own; the server says no to anything else, in the page's words).

import { api, APP, ApiError, query } from "../api.js";
import { announce, clearFormError, fill, h, showFormError } from "../dom.js";
import { formatDate, formatNumber, t } from "../i18n.js";

const MINE_LIMIT = 20;
const POPULAR_LIMIT = 30;

const askForm = document.querySelector("[data-ask]");
const popularList = document.querySelector("[data-popular]");
const popularError = document.querySelector("[data-popular-error]");
const mineBody = document.querySelector("[data-mine]");
const mineError = document.querySelector("[data-mine-error]");
const mineStatus = document.querySelector("[data-mine-status]");
const pager = document.querySelector("[data-mine-pager]");
let minePage = 1;
const categoryNames = new Map(); // id → name, to name a request's category

function errorText(error) {
  return error instanceof ApiError ? error.text : String(error);
}

function statusBadge(status) {
  const tone = { approved: "accent", in_progress: "warn", completed: "good", rejected: "bad" }[status] ?? "";
  return h("span", { class: `badge ${tone}`.trim() }, t(`requests.status.${status}`));
}

function votes(count) {
  return count === 1 ? t("requests.votesOne") : t("requests.votes", { count: formatNumber(count) });
}

// --- categories for the form ----------------------------------------------------------------

async function loadCategories() {
  try {
    const { categories } = await api(`${APP}/categories`);
    const select = askForm.elements.categoryId;
    for (const root of categories) {
      categoryNames.set(root.id, root.name);
      for (const child of root.children ?? []) categoryNames.set(child.id, child.name);
      select.append(
        h(
          "optgroup",
          { label: root.name },
          h("option", { value: root.id }, root.name),
          (root.children ?? []).map((child) => h("option", { value: child.id }, child.name)),
        ),
      );
    }
  } catch {
    // The category is optional: the form works without the list.
  }
}

// --- asking ----------------------------------------------------------------------------------

function localProblem() {
  const checks = [
    ["poseName", 3, "requests.poseName"],
    ["description", 10, "requests.description"],
  ];
  for (const [name, min, labelKey] of checks) {
    if (askForm.elements[name].value.trim().length < min) {
      return { text: t("requests.tooShort", { field: t(labelKey), min }), field: name };
    }
  }
  return null;
}

askForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFormError(askForm);
  const problem = localProblem();
  if (problem) {
    showFormError(askForm, problem);
    return;
  }
  const elements = askForm.elements;
  const body = { poseName: elements.poseName.value.trim(), description: elements.description.value.trim() };
  if (elements.categoryId.value) body.categoryId = elements.categoryId.value;
  if (elements.useCase.value.trim()) body.useCase = elements.useCase.value.trim();
  const button = askForm.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    await api(`${APP}/requests`, { method: "POST", body });
    askForm.reset();
    announce(t("requests.sent"));
    minePage = 1;
    await Promise.all([loadMine(), loadPopular()]);
  } catch (error) {
    showFormError(askForm, error);
  } finally {
    button.disabled = false;
  }
});

// --- my requests -----------------------------------------------------------------------------

async function loadMine() {
  mineError.textContent = "";
  try {
    const { requests, pagination } = await api(
      `${APP}/requests${query({ status: mineStatus.value, page: minePage, limit: MINE_LIMIT })}`,
    );
    fill(
      mineBody,
      requests.map((request) =>
        h(
          "tr",
          { "data-request-id": request.id },
          h(
            "th",
            { scope: "row" },
            request.poseName,
            request.adminNotes ? h("p", { class: "hint" }, `${t("requests.colNotes")}: ${request.adminNotes}`) : null,
          ),
          h("td", {}, statusBadge(request.status)),
          h("td", { class: "number", "data-votes": "" }, formatNumber(request.votesCount)),
          h("td", {}, formatDate(request.createdAt)),
        ),
      ),
    );
    document.querySelector("[data-mine-wrap]").hidden = requests.length === 0;
    document.querySelector("[data-mine-empty]").hidden = requests.length > 0;
    pager.hidden = pagination.totalPages <= 1;
    pager.querySelector("[data-page-label]").textContent = t("common.pageOf", {
      page: formatNumber(pagination.page),
      pages: formatNumber(Math.max(1, pagination.totalPages)),
    });
    pager.querySelector("[data-page-prev]").disabled = pagination.page <= 1;
    pager.querySelector("[data-page-next]").disabled = !pagination.hasMore;
  } catch (error) {
    mineError.textContent = errorText(error);
  }
}

mineStatus.addEventListener("change", () => {
  minePage = 1;
  loadMine();
});
pager.querySelector("[data-page-prev]").addEventListener("click", () => {
  minePage = Math.max(1, minePage - 1);
  loadMine();
});
pager.querySelector("[data-page-next]").addEventListener("click", () => {
  minePage += 1;
  loadMine();
});

// --- popular requests and votes ----------------------------------------------------------------

function voteButton(request) {
  return h(
    "button",
    {
      type: "button",
      class: `button ${request.hasVoted ? "" : "primary"}`.trim(),
      "aria-pressed": String(request.hasVoted),
      "aria-label": t(request.hasVoted ? "requests.unvoteFor" : "requests.voteFor", { name: request.poseName }),
      onclick: (event) => vote(request, event.currentTarget),
    },
    request.hasVoted ? t("requests.unvote") : t("requests.vote"),
  );
}

function popularItem(request) {
  return h(
    "li",
    { class: "popular-item", "data-request-id": request.id },
    h(
      "div",
      { class: "popular-votes" },
      h("span", { class: "vote-count", "data-votes": "" }, votes(request.votesCount)),
    ),
    h(
      "div",
      { class: "popular-body" },
      h("h3", {}, request.poseName),
      h("p", { class: "popular-description" }, request.description),
      h(
        "div",
        { class: "tile-meta" },
        statusBadge(request.status),
        request.isMine ? h("span", { class: "badge accent" }, t("requests.yours")) : null,
        categoryNames.has(request.categoryId) ? h("span", { class: "badge" }, categoryNames.get(request.categoryId)) : null,
        request.useCase ? h("span", { class: "muted" }, request.useCase) : null,
      ),
    ),
    h("div", { class: "popular-action" }, request.isMine ? null : voteButton(request)),
  );
}

async function loadPopular() {
  popularList.setAttribute("aria-busy", "true");
  try {
    const { requests } = await api(`${APP}/requests/popular${query({ limit: POPULAR_LIMIT })}`);
    fill(popularList, requests.map(popularItem));
    document.querySelector("[data-popular-empty]").hidden = requests.length > 0;
  } catch (error) {
    popularError.textContent = errorText(error);
  } finally {
    popularList.setAttribute("aria-busy", "false");
  }
}

async function vote(request, button) {
  popularError.textContent = "";
  const on = !request.hasVoted;
  button.disabled = true;
  try {
    const { request: updated } = await api(`${APP}/requests/${encodeURIComponent(request.id)}/vote`, {
      method: on ? "POST" : "DELETE",
    });
    const item = popularItem(updated);
    popularList.querySelector(`[data-request-id="${CSS.escape(request.id)}"]`)?.replaceWith(item);
    item.querySelector("button")?.focus();
    announce(t(on ? "requests.votedFor" : "requests.unvotedFor", { name: updated.poseName }));
  } catch (error) {
    // Refused (own request, votes closed, gone): the server's reason in the page's words.
    popularError.textContent = errorText(error);
    button.disabled = false;
  }
}

loadMine();
// Popular requests name their category: the names come first.
loadCategories().then(loadPopular);
