// Admin: pose-request moderation. Counts by status, a status filter, and per request the moves its
// status allows (pending → approved | rejected, approved → in progress, in progress → completed)
// plus the admin notes, each through one dialog.

import { APP, api, query } from "../../api.js";
import { announce, fill, h } from "../../dom.js";
import { t } from "../../i18n.js";
import { FormProblem, facts, formDialog, formatDate, formatNumber, renderPager, showError, urlParam } from "../../admin-kit.js";

const list = document.querySelector("[data-requests]");
const stats = document.querySelector("[data-stats]");
const pager = document.querySelector("[data-pager]");
const listError = document.querySelector("[data-list-error]");
const filter = document.querySelector("[data-filter]");
const state = { status: urlParam("status"), page: 1 };
filter.elements.status.value = state.status;

const BADGES = { pending: "warn", approved: "accent", in_progress: "accent", completed: "good", rejected: "bad" };

// What each move sends and says: its path, whether notes are required, its button and title.
const MOVES = {
  approve: { path: "approve", method: "POST", notes: "optional", from: ["pending"] },
  reject: { path: "reject", method: "POST", notes: "required", from: ["pending"] },
  progress: { path: "mark-in-progress", method: "POST", notes: "optional", from: ["approved"] },
  complete: { path: "mark-completed", method: "POST", notes: "optional", pose: true, from: ["in_progress"] },
  notes: { path: "notes", method: "PUT", notes: "required", from: null },
};

function card(request) {
  const moves = Object.entries(MOVES).filter(([, move]) => !move.from || move.from.includes(request.status));
  return h(
    "li",
    { class: "card request-card", dataset: { requestId: request.id } },
    h(
      "div",
      { class: "card-head" },
      h("h4", {}, request.poseName),
      h("span", { class: `badge ${BADGES[request.status] ?? ""}`, dataset: { status: request.status } }, t(`admin.requests.status.${request.status}`)),
    ),
    h("p", {}, request.description),
    facts([
      [t("admin.requests.votes"), formatNumber(request.votesCount)],
      [t("admin.requests.asked"), formatDate(request.createdAt)],
      request.useCase ? [t("admin.requests.useCase"), request.useCase] : null,
      request.completedPoseId ? [t("admin.requests.completedPose"), h("code", {}, request.completedPoseId)] : null,
    ].filter(Boolean)),
    request.adminNotes
      ? h("p", { class: "request-notes" }, h("span", { class: "muted" }, `${t("admin.requests.notes")}: `), request.adminNotes)
      : null,
    h(
      "div",
      { class: "actions" },
      moves.map(([name]) =>
        h(
          "button",
          { type: "button", class: name === "reject" ? "button danger" : name === "notes" ? "button subtle" : "button", onclick: () => openMove(request, name) },
          t(`admin.requests.move.${name}`),
        ),
      ),
    ),
  );
}

async function loadStats() {
  const counts = await api(`${APP}/admin/pose-requests/stats`);
  fill(
    stats,
    h(
      "div",
      { class: "metric-tiles compact" },
      ["total", "pending", "approved", "inProgress", "completed", "rejected"].map((name) =>
        h("div", { class: "metric-tile card" }, h("p", { class: "metric-label" }, t(`admin.requests.count.${name}`)), h("p", { class: "metric-value" }, formatNumber(counts[name]))),
      ),
    ),
  );
}

async function load(page = state.page) {
  showError(listError, "");
  try {
    const [result] = await Promise.all([
      api(`${APP}/admin/pose-requests${query({ status: state.status, page, limit: 20 })}`),
      loadStats(),
    ]);
    state.page = result.pagination.page;
    fill(list, result.requests.length ? result.requests.map(card) : h("li", { class: "empty" }, t("admin.requests.none")));
    renderPager(pager, result.pagination, load);
  } catch (error) {
    showError(listError, error);
  }
}

filter.addEventListener("submit", (event) => event.preventDefault());
filter.elements.status.addEventListener("change", () => {
  state.status = filter.elements.status.value;
  load(1);
});

const dialog = document.getElementById("moderate-dialog");
let current = null;
const openDialog = formDialog(dialog, {
  async submit(form) {
    const move = MOVES[current.move];
    const notes = form.elements.adminNotes.value.trim();
    if (move.notes === "required" && !notes) throw new FormProblem(t("admin.requests.notesMissing"), "adminNotes");
    const body = { adminNotes: notes || null };
    if (move.pose) {
      const poseId = form.elements.completedPoseId.value.trim();
      if (!poseId) throw new FormProblem(t("admin.requests.poseMissing"), "completedPoseId");
      body.completedPoseId = poseId;
    }
    if (move.notes === "required") body.adminNotes = notes;
    return api(`${APP}/admin/pose-requests/${encodeURIComponent(current.request.id)}/${move.path}`, { method: move.method, body });
  },
  async done(result) {
    announce(t("admin.requests.done", { name: result.request.poseName, status: t(`admin.requests.status.${result.request.status}`) }));
    await load();
  },
});

function openMove(request, name) {
  current = { request, move: name };
  const move = MOVES[name];
  openDialog((form) => {
    form.querySelector("[data-title]").textContent = t(`admin.requests.title.${name}`, { name: request.poseName });
    form.querySelector("[data-who]").textContent = request.description;
    form.querySelector("[data-submit]").textContent = t(`admin.requests.move.${name}`);
    form.querySelector("[data-pose-field]").hidden = !move.pose;
    form.elements.completedPoseId.required = Boolean(move.pose);
    const notes = form.elements.adminNotes;
    notes.required = move.notes === "required";
    notes.value = request.adminNotes ?? "";
    form.querySelector("[data-notes-label]").textContent =
      move.notes === "required" ? t("admin.requests.notesRequired") : `${t("admin.requests.notes")} (${t("common.optional")})`;
  });
}

load(1);
