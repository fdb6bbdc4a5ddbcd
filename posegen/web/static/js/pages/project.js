// One project: edit its fields, upload its avatar image, see its latest generations, delete it.

import { api, APP } from "../api.js";
import { announce, clearFormError, fill, h, showFormError } from "../dom.js";
import { formatDate, formatNumber, page, t } from "../i18n.js";
import { fillProject, focusField, readProject } from "../project-form.js";

const path = `${APP}/projects/${encodeURIComponent(page.projectId)}`;
const body = document.querySelector("[data-project]");
const heading = document.querySelector("[data-project-name]");
const loadError = document.querySelector("[data-load-error]");
const editForm = document.querySelector('[data-form="edit"]');
const avatarForm = document.querySelector('[data-form="avatar"]');
const avatarFrame = document.querySelector("[data-avatar-frame]");
const generations = document.querySelector("[data-generations]");
const dialog = document.querySelector("[data-confirm]");
let project = null;

function showAvatar() {
  if (!project.avatarUrl) {
    fill(avatarFrame, h("p", { class: "muted" }, t("projects.noAvatar")));
    return;
  }
  fill(
    avatarFrame,
    h("img", { src: project.avatarUrl, alt: t("projects.avatarAlt", { name: project.projectName }), "data-avatar": true }),
  );
}

function generationItem(generation) {
  const status = `project.generationStatus.${generation.status}`;
  return h(
    "li",
    {},
    h(
      "a",
      { href: `/generations/${encodeURIComponent(generation.id)}` },
      t("project.generationLink", {
        type: t(`project.type.${generation.generationType}`),
        count: formatNumber(generation.totalPoses),
        date: formatDate(generation.createdAt),
      }),
    ),
    " ",
    h("span", { class: generation.status === "completed" ? "badge good" : generation.status === "failed" ? "badge bad" : "badge" }, t(status)),
  );
}

function show(next) {
  project = next;
  heading.textContent = project.projectName;
  document.title = `${project.projectName} · posegen`;
  fillProject(editForm, project);
  showAvatar();
}

async function load() {
  try {
    const { project: loaded } = await api(path);
    show(loaded);
    fill(
      generations,
      loaded.generations.length
        ? h("ul", { class: "generation-list" }, loaded.generations.map(generationItem))
        : h("p", { class: "muted" }, t("project.noGenerations")),
    );
    body.hidden = false;
  } catch (error) {
    loadError.textContent = error.code === "NOT_FOUND" ? t("project.notFound") : error.text;
    loadError.hidden = false;
  }
}

editForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFormError(editForm);
  const changes = { ...readProject(editForm), status: editForm.elements.status.value };
  if (!changes.projectName) {
    showFormError(editForm, { text: t("projects.missingName"), field: "projectName" });
    return;
  }
  const button = editForm.querySelector('button[type="submit"]');
  button.disabled = true;
  button.textContent = t("project.saving");
  try {
    const { project: saved } = await api(path, { method: "PUT", body: changes });
    show(saved);
    announce(t("project.saved"));
  } catch (error) {
    showFormError(editForm, error);
    focusField(editForm, error.field);
  } finally {
    button.disabled = false;
    button.textContent = t("project.save");
  }
});

avatarForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFormError(avatarForm);
  const file = avatarForm.elements.file.files[0];
  if (!file) {
    showFormError(avatarForm, { text: t("project.chooseFile"), field: "file" });
    return;
  }
  const form = new FormData();
  form.append("file", file);
  const button = avatarForm.querySelector('button[type="submit"]');
  button.disabled = true;
  button.textContent = t("project.uploading");
  try {
    const { project: saved } = await api(`${path}/avatar`, { method: "POST", form });
    show(saved);
    avatarForm.reset();
    announce(t("project.avatarSaved"));
  } catch (error) {
    showFormError(avatarForm, error);
  } finally {
    button.disabled = false;
    button.textContent = t("project.uploadAvatar");
  }
});

document.querySelector("[data-delete]").addEventListener("click", () => {
  if (!project) return;
  clearFormError(dialog);
  dialog.querySelector("[data-confirm-text]").textContent = t("project.confirmText", { name: project.projectName });
  dialog.showModal();
});
for (const button of dialog.querySelectorAll("[data-close]")) {
  button.addEventListener("click", () => dialog.close());
}
dialog.querySelector("[data-confirm-delete]").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  clearFormError(dialog);
  try {
    await api(path, { method: "DELETE" });
    announce(t("project.deleted"));
    window.location.assign("/projects");
  } catch (error) {
    showFormError(dialog, error);
    button.disabled = false;
  }
});

load();
