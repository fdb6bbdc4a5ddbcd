// The projects page: the caller's projects, a page at a time, and a form to create one.

import { api, APP, query } from "../api.js";
import { announce, clearFormError, fill, h, showFormError } from "../dom.js";
import { formatDate, formatNumber, t } from "../i18n.js";
import { focusField, readProject } from "../project-form.js";

const PAGE_SIZE = 12;
const list = document.querySelector("[data-projects]");
const listError = document.querySelector("[data-list-error]");
const pager = document.querySelector("[data-pager]");
let current = 1;

function projectCard(project) {
  const attributes = Object.values(project.avatarAttributes ?? {}).filter(Boolean);
  return h(
    "li",
    { class: "card project-card" },
    h(
      "div",
      { class: "project-card-media" },
      project.avatarUrl
        ? h("img", { src: project.avatarUrl, alt: t("projects.avatarAlt", { name: project.projectName }) })
        : h("span", { class: "project-initial", "aria-hidden": "true" }, project.projectName.slice(0, 1).toUpperCase()),
    ),
    h(
      "div",
      { class: "project-card-body" },
      h("h3", {}, h("a", { href: `/projects/${encodeURIComponent(project.id)}` }, project.projectName)),
      project.description ? h("p", { class: "muted project-description" }, project.description) : null,
      attributes.length ? h("p", { class: "project-attributes" }, attributes.join(" · ")) : null,
      h(
        "p",
        { class: "tile-meta" },
        h("span", { class: project.status === "active" ? "badge good" : "badge" }, t(`projects.status.${project.status}`)),
        h("span", { class: "badge" }, t("projects.generationsCount", { count: formatNumber(project.totalGenerations) })),
        h("span", { class: "badge" }, t("projects.posesCount", { count: formatNumber(project.totalPosesGenerated) })),
        h("span", { class: "muted" }, formatDate(project.updatedAt)),
      ),
    ),
  );
}

async function load(pageNumber) {
  list.setAttribute("aria-busy", "true");
  listError.textContent = "";
  try {
    const { projects, pagination } = await api(`${APP}/projects${query({ page: pageNumber, limit: PAGE_SIZE })}`);
    current = pagination.page;
    fill(
      list,
      projects.length
        ? h("ul", { class: "project-grid" }, projects.map(projectCard))
        : h("p", { class: "empty" }, t("projects.empty")),
    );
    pager.hidden = pagination.totalPages <= 1;
    pager.querySelector('[data-page="previous"]').disabled = pagination.page <= 1;
    pager.querySelector('[data-page="next"]').disabled = !pagination.hasMore;
    pager.querySelector("[data-page-of]").textContent = t("common.pageOf", {
      page: pagination.page,
      pages: Math.max(pagination.totalPages, 1),
    });
  } catch (error) {
    listError.textContent = error.text ?? t("errors.UNKNOWN");
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

pager.addEventListener("click", (event) => {
  const button = event.target.closest("[data-page]");
  if (!button) return;
  load(button.dataset.page === "next" ? current + 1 : current - 1);
});

const form = document.querySelector('[data-form="create"]');
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFormError(form);
  const body = readProject(form);
  if (!body.projectName) {
    showFormError(form, { text: t("projects.missingName"), field: "projectName" });
    return;
  }
  if (!body.description) delete body.description;
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const { project } = await api(`${APP}/projects`, { method: "POST", body });
    announce(t("projects.created"));
    window.location.assign(`/projects/${encodeURIComponent(project.id)}`);
  } catch (error) {
    showFormError(form, error);
    focusField(form, error.field);
    button.disabled = false;
  }
});

load(1);
